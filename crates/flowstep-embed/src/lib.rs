//! The one crate to depend on to embed flowstep: the engine with the standard steps and the
//! bundled presets in one call ([`StandardEngine::standard`]), and a [`prelude`] with what a
//! program that runs flows uses.
#![doc = include_str!("../README.md")]

mod standard;

pub use standard::{StandardEngine, presets_loader};

pub use async_trait::async_trait;
pub use flowstep_engine as engine;
pub use flowstep_http as http;
pub use flowstep_presets as presets;
pub use flowstep_spec as spec;
pub use flowstep_whatsapp as whatsapp;
pub use serde_json;

/// What a program that runs flows uses, in one `use flowstep_embed::prelude::*;`.
pub mod prelude {
    pub use crate::StandardEngine;
    pub use async_trait::async_trait;
    pub use flowstep_engine::{
        Channel, ChannelError, CompileError, Delivery, Engine, ErrorKind, InputProblems,
        InputValue, Outcome, OutgoingMessage, Plan, RecordingChannel, Redactor, RunError, RunMode,
        RunRequest, RunStatus, Secret, Step, StepContext, StepError, StepStatus, check_keys,
        step_fn,
    };
    pub use flowstep_http::{HttpConfig, NetworkPolicy};
    pub use flowstep_spec::SourceFile;
    pub use flowstep_whatsapp::{WhatsAppChannel, WhatsAppConfig};
}

/// docs/embedding.md, whose Rust blocks that are not marked `ignore` are compiled and run as
/// this crate's doctests, so that the guide's first example cannot go stale.
#[cfg(all(doctest, flowstep_guide))]
#[doc = include_str!("../../../docs/embedding.md")]
pub struct EmbeddingGuide;
