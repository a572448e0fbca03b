//! The parts of `flowstep batch` (the command itself is `commands/batch.rs`): reading rows
//! with bounded memory, typing them into runs, writing and resuming results, progress, stop.

pub mod csv_reader;
pub mod lines;
pub mod progress;
pub mod results;
pub mod row_inputs;
pub mod rows;
pub mod run_ids;
pub mod stop;
pub mod writer;
