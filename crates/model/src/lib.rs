//! Rapport's domain model: metadata (objects, fields, picklists), values, record ids,
//! validation, the standard catalogue and the error-code table. Pure: no IO.
#![forbid(unsafe_code)]

pub mod catalogue;
pub mod error;
pub mod id;
pub mod schema;
pub mod validate;
pub mod value;

pub use error::{ErrorCode, RecordError};
pub use id::RecordId;
pub use schema::{
    FieldDef, FieldType, Label, Lang, ObjectDef, PicklistValue, Schema, Storage, ValueSet,
};
pub use value::Value;
