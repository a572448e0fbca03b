//! Crash tests of `flowstep serve` against the real binary, a real SQLite file and a sandbox in
//! the test process (so it outlives the server): `kill -9` at each checkpoint boundary, 500
//! runs with faults and a kill mid-batch, and graceful shutdown. Every test counts the side
//! effects at the far end (sessions created, WhatsApp messages received).

pub(crate) mod far_end;
mod kill_points;
pub(crate) mod load;
mod patient_client;
mod ram_dir;
mod shutdown;
mod used_flows;
