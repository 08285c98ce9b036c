//! How each service's container is started, as the renderer decided it for the compose
//! file: the planner builds the deployment document from the same decision, so the
//! compose file and the switched containers cannot disagree.

use std::collections::BTreeMap;

/// A service's command line and environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Launch {
    /// `None` runs the image's own command.
    pub command: Option<Vec<String>>,
    pub environment: BTreeMap<String, String>,
}
