//! Stage 5: what a switch must do, service by service. Pure: from the model, the build
//! and what the runtime reports, to a [`Plan`] printed before anything is touched.

mod desired;
pub mod hosts;
mod steps;

pub use desired::{config_hashes, deployment};
pub use steps::{Action, Decision, Plan, Reason, Step, as_running, decide, plan};
