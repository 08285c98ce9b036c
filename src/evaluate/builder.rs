//! What a script declared, in call order, before it is checked and typed by `convert`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::spec::{
    AlertSpec, AlertTestSpec, AppSpec, DashboardSpec, DatasourceSpec, NetworkSpec, PipelineSpec,
    RouteSpec, ScrapeSpec, ServiceSpec,
};
use crate::diagnostic::{Diagnostic, Span};
use crate::model::{Kind, Signal, Tree};

/// Everything declared during one evaluation. Shared by the native functions through
/// [`Shared`]; evaluation is single-threaded, so `Rc<RefCell<_>>` is enough.
#[derive(Debug, Default)]
pub struct Builder {
    pub stack: Option<(String, Span)>,
    /// `engine` of `stack(name, #{ ... })`, as written.
    pub engine: Option<(String, Span)>,
    pub network: Option<(String, NetworkSpec, Span)>,
    pub services: Vec<ServiceDecl>,
    /// The first of `services` of each name.
    pub service_names: BTreeMap<String, usize>,
    pub apps: Vec<AppDecl>,
    /// `hosts_entry(address, name)` calls, in call order; checked by `validate`.
    pub hosts: Vec<HostDecl>,
    /// Problems found while the script ran; evaluation goes on so all of them are reported.
    pub diagnostics: Vec<Diagnostic>,
    /// `print` and `debug` output, shown on stderr after evaluation.
    pub traces: Vec<(Option<Span>, String)>,
    /// Option names a library function just took with `take`; a typo in the options it
    /// passes on to `service` is matched against these too.
    pub options: Vec<String>,
}

pub type Shared = Rc<RefCell<Builder>>;

#[derive(Debug)]
pub struct ServiceDecl {
    pub name: String,
    pub span: Span,
    /// Where the `service(...)` call itself is, when a library function made it on the user's
    /// behalf (`span` is then the user's call of that function).
    pub via: Option<Span>,
    pub kind: Kind,
    pub spec: ServiceSpec,
    pub ops: Vec<Op>,
    /// The declaration could not be read (its error is reported): what is declared with it
    /// is dropped quietly, so one mistake gives one error.
    pub failed: bool,
}

#[derive(Debug)]
pub struct AppDecl {
    pub name: String,
    pub span: Span,
    pub spec: AppSpec,
}

#[derive(Debug)]
pub struct HostDecl {
    pub name: String,
    pub address: String,
    pub span: Span,
    pub via: Option<Span>,
}

/// The sections of a collector configuration that hold named components: the model's.
pub use crate::model::versions::collector::Section;

/// A change made to a service after it was declared, through a method of its handle.
#[derive(Debug)]
pub enum Op {
    /// `svc.set("a.b", value)`: a settings override.
    Set { path: Vec<String>, value: Tree, span: Span },
    /// `collector.receiver(id, settings)` and the like.
    Component { section: Section, id: String, settings: Tree, span: Span },
    Pipeline { id: String, spec: PipelineSpec, span: Span },
    /// `collector.send(signal, backend)`, or one of the backend's other ways with `via`.
    Send { signal: Signal, backend: usize, via: Option<String>, span: Span },
    Scrape { job: String, targets: Vec<String>, spec: ScrapeSpec, span: Span },
    /// `prometheus.scrape(service)`: its `metrics` endpoint.
    ScrapeService { service: usize, span: Span },
    Alert { name: String, spec: AlertSpec, span: Span },
    Record { name: String, expr: String, group: Option<String>, span: Span },
    /// `prometheus.alert_test(#{ ... })`.
    AlertTest { spec: Box<AlertTestSpec>, span: Span },
    AlertsTo { alertmanager: usize, span: Span },
    /// `alertmanager.receiver(name, settings)`.
    AmReceiver { name: String, settings: Tree, span: Span },
    Route { spec: RouteSpec, span: Span },
    DatasourceOf { service: usize, overrides: Option<DatasourceSpec>, span: Span },
    Datasource { spec: DatasourceSpec, span: Span },
    Dashboard { spec: Box<DashboardSpec>, span: Span },
    File { path: String, content: Tree, span: Span },
    /// `svc.label(key, value)`: a container label, e.g. a proxy's routing rule.
    Label { key: String, value: String, span: Span },
}

/// A script's handle on a declared service: `let loki = loki::server();`.
#[derive(Clone)]
pub struct ServiceRef {
    pub index: usize,
    pub name: Rc<str>,
    pub kind: Kind,
}

impl ServiceRef {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Service({})", self.name)
    }
}
