//! The script that was written is the stack that is built: every library constructor,
//! called in any order, with or without options, declares exactly the service it names,
//! and functions of the same name in different modules never stand in for each other.

use std::collections::BTreeMap;
use std::path::Path;

use obsbuild::model::Kind;

/// Each library constructor: its module, the call without options, the call with options,
/// the service names each declares and its kind.
struct Constructor {
    module: &'static str,
    alias: &'static str,
    bare: &'static str,
    with_options: &'static str,
    names: (&'static str, &'static str),
    kind: Kind,
}

const CONSTRUCTORS: [Constructor; 7] = [
    Constructor { module: "otel-collector", alias: "otel", bare: "otel::collector()", with_options: "otel::collector(#{ name: \"hub\", memory_limit_mib: 400 })", names: ("otel-collector", "hub"), kind: Kind::Collector },
    Constructor { module: "loki", alias: "loki", bare: "loki::server()", with_options: "loki::server(#{ name: \"logs\", retention: \"168h\" })", names: ("loki", "logs"), kind: Kind::Loki },
    Constructor { module: "prometheus", alias: "prometheus", bare: "prometheus::server()", with_options: "prometheus::server(#{ name: \"metrics\" })", names: ("prometheus", "metrics"), kind: Kind::Prometheus },
    Constructor { module: "alertmanager", alias: "alertmanager", bare: "alertmanager::server()", with_options: "alertmanager::server(#{ name: \"alerts\" })", names: ("alertmanager", "alerts"), kind: Kind::Alertmanager },
    Constructor { module: "jaeger", alias: "jaeger", bare: "jaeger::server()", with_options: "jaeger::server(#{ name: \"traces\" })", names: ("jaeger", "traces"), kind: Kind::Jaeger },
    Constructor { module: "grafana", alias: "grafana", bare: "grafana::server()", with_options: "grafana::server(#{ name: \"ui\", anonymous: false })", names: ("grafana", "ui"), kind: Kind::Grafana },
    // Traefik has no call without options: `domain` is required.
    Constructor { module: "traefik", alias: "traefik", bare: "traefik::proxy(#{ domain: \"d\" })", with_options: "traefik::proxy(#{ domain: \"d\", name: \"proxy\" })", names: ("traefik", "proxy"), kind: Kind::Container },
];

/// Every ordering of `0..n`, by Heap's algorithm.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn heap(k: usize, items: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(items.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, items, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            items.swap(j, k - 1);
        }
    }
    let mut out = Vec::new();
    heap(n, &mut (0..n).collect(), &mut out);
    out
}

/// The services a script declares, by name with their kind.
fn declared(dir: &Path, script: &str) -> Result<BTreeMap<String, Kind>, String> {
    let path = dir.join("stacks/case.rhai");
    std::fs::write(&path, script).unwrap();
    match obsbuild::evaluate::evaluate(&path, &Default::default()) {
        Ok(e) => Ok(e.stack.services.iter().map(|(n, s)| (n.clone(), s.kind())).collect()),
        Err(f) => Err(obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain)),
    }
}

/// Which calls of a permutation get options: none, all, and a pattern that changes with
/// the permutation, so that bare and optioned calls meet in every order.
fn masks(index: usize) -> [u32; 3] {
    [0, 0b111_1111, (index as u32).wrapping_mul(37) % 128]
}

#[test]
fn every_order_of_library_constructors_builds_the_services_it_names() {
    let imports: String =
        CONSTRUCTORS.iter().map(|c| format!("import \"{}\" as {};\n", c.module, c.alias)).collect();
    let orders = permutations(CONSTRUCTORS.len());
    assert_eq!(orders.len(), 5040);
    let cases: Vec<(usize, u32)> =
        orders.iter().enumerate().flat_map(|(i, _)| masks(i).into_iter().map(move |m| (i, m))).collect();
    let workers = 2;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (cases, orders, imports) = (&cases, &orders, &imports);
                scope.spawn(move || {
                    let tmp = tempfile::tempdir().unwrap();
                    std::fs::create_dir_all(tmp.path().join("stacks")).unwrap();
                    let mut failures = Vec::new();
                    for (_, &(index, mask)) in cases.iter().enumerate().filter(|(n, _)| n % workers == w) {
                        let order = &orders[index];
                        let mut script = imports.clone();
                        let mut expected = BTreeMap::new();
                        for &c in order {
                            let ctor = &CONSTRUCTORS[c];
                            let with = mask & (1 << c) != 0;
                            script.push_str(if with { ctor.with_options } else { ctor.bare });
                            script.push_str(";\n");
                            expected.insert((if with { ctor.names.1 } else { ctor.names.0 }).to_owned(), ctor.kind);
                        }
                        match declared(tmp.path(), &script) {
                            Ok(got) if got == expected => {}
                            Ok(got) => failures.push(format!("{script}\ndeclared {got:?}, expected {expected:?}")),
                            Err(e) => failures.push(format!("{script}\nfailed:\n{e}")),
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} of {} cases wrong; the first:\n{}", failures.len(), cases.len(), failures[0]);
}

/// Users' own modules: two modules and the main script each define `make()`, `make(opts)`
/// and `helper(opts)`; every call runs the functions of the module it names, in any order,
/// also when each call is made twice (the second resolution is the one Rhai caches).
#[test]
fn functions_of_the_same_name_in_users_modules_stay_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let stacks = tmp.path().join("stacks");
    std::fs::create_dir_all(&stacks).unwrap();
    let module = |m: &str| {
        format!("fn make() {{ make(#{{}}) }}\nfn make(opts) {{ helper(opts) }}\nfn helper(opts) {{ `{m}-${{opts.len()}}` }}\n")
    };
    std::fs::write(stacks.join("a.rhai"), module("a")).unwrap();
    std::fs::write(stacks.join("b.rhai"), module("b")).unwrap();
    let main = format!("import \"./a\" as a;\nimport \"./b\" as b;\n{}", module("main"));
    let calls = [("a::make()", "a-0"), ("b::make()", "b-0"), ("make()", "main-0"), ("a::make(#{ x: 1 })", "a-1"), ("b::make(#{ x: 1 })", "b-1")];
    for order in permutations(calls.len()) {
        let mut script = main.clone();
        let mut want = Vec::new();
        for &i in order.iter().chain(order.iter()) {
            script.push_str(&format!("print({});\n", calls[i].0));
            want.push(calls[i].1.to_owned());
        }
        let path = stacks.join("case.rhai");
        std::fs::write(&path, &script).unwrap();
        let evaluation = obsbuild::evaluate::evaluate(&path, &Default::default()).unwrap_or_else(|f| {
            panic!("{script}\n{}", obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain))
        });
        let got: Vec<String> = evaluation.traces.iter().map(|(_, t)| t.clone()).collect();
        assert_eq!(got, want, "{script}");
    }
}

/// `grafana::quantile` names any quantile as the percentile it is, for the legend.
#[test]
fn quantile_legends_read_as_percentiles() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("stacks")).unwrap();
    let cases = [("0.5", "p50"), ("0.9", "p90"), ("0.95", "p95"), ("0.99", "p99"), ("0.999", "p99.9"), ("0.05", "p5"), ("0.005", "p0.5"), ("1", "p1")];
    let calls: Vec<String> = cases.iter().map(|(q, _)| format!("grafana::quantile(\"{q}\", \"b\")")).collect();
    let script = format!(
        "import \"prometheus\" as prometheus;\nimport \"grafana\" as grafana;\nlet m = prometheus::server();\nlet ui = grafana::server(#{{ datasources: [m] }});\nui.dashboard(#{{ uid: \"q\", title: \"Q\", panels: [#{{ title: \"L\", datasource: \"prometheus\", queries: [{}] }}] }});\n",
        calls.join(", ")
    );
    let path = tmp.path().join("stacks/case.rhai");
    std::fs::write(&path, script).unwrap();
    let e = obsbuild::evaluate::evaluate(&path, &Default::default()).unwrap_or_else(|f| {
        panic!("{}", obsbuild::diagnostic::render_all(&f.diagnostics.0, &f.sources, obsbuild::diagnostic::Paint::Plain))
    });
    let obsbuild::model::Component::Grafana(g) = &e.stack.services["grafana"].component else { panic!("no grafana") };
    let legends: Vec<&str> = g.dashboards[0].panels[0].queries.iter().filter_map(|q| q.legend.as_deref()).collect();
    let wanted: Vec<&str> = cases.iter().map(|(_, p)| *p).collect();
    assert_eq!(legends, wanted);
}
