//! Stage 5: what a switch must do, service by service. Pure: from the model, the build
//! and what the runtime reports, to a [`Plan`] printed before anything is touched.

mod desired;
pub mod hosts;
mod steps;

pub use desired::{
    ACTIVATION, Activation, CONFIGS, Desired, Reload, Strategy, activation, config_hashes, container_name, load, spec_hash,
};
pub use steps::{Action, Plan, Step, plan};
