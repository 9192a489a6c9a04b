//! The registrator pipeline: Delta table in ADLS Gen2 → Azure ML datastore, MLTable and uri_folder data versions.

pub mod changes;
mod flow;
pub mod table;

pub use flow::{TAG_DELTA_TIMESTAMP, TAG_DELTA_VERSION, TASK_VALUE_KEY, run};
