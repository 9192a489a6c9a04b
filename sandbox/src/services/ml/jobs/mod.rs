//! The job model: the table (`table`), status walks and scripts (`lifecycle`), PUT body rules (`body`), the JSON
//! shape (`render`) and the large-workspace generator (`generate`). HTTP handlers live in `api::jobs`.

pub(crate) mod body;
pub(crate) mod generate;
pub(crate) mod lifecycle;
pub(crate) mod render;
pub(crate) mod table;
