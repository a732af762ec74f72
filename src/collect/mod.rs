//! Collect stage (`aliaudit collect`, SPEC 6): fetches the evidence from the live APIs and
//! saves it in the layout `report` reads. So far: request signing.

pub mod accounts;
pub mod credentials;
pub mod sign;
