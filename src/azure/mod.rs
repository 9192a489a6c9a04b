//! Thin typed clients for the Azure REST APIs drift calls. They build URLs and bodies and decode answers; every
//! request goes through `crate::http`. Nothing here knows about pipelines.

pub mod keyvault;
pub mod ml;
pub mod storage;
