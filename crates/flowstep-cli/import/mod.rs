//! `flowstep import`: another tool's request as a flow with one http step.

pub mod curl_command;
pub mod http_step;
pub mod yaml_text;
