//! The error-code table: Salesforce's `errorCode` strings with the HTTP status each is answered
//! with. Every error a user can see carries one of these codes.

use std::fmt;

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:literal, $doc:literal;)*) => {
        /// A Salesforce `errorCode`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $(#[doc = $doc] $variant,)* }

        impl ErrorCode {
            /// The code as the API spells it (`REQUIRED_FIELD_MISSING`).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
            /// The HTTP status a REST call failing with only this error answers with.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }
        }
    };
}

error_codes! {
    InvalidSessionId = "INVALID_SESSION_ID", 401, "The token is missing, expired or revoked.";
    MalformedQuery = "MALFORMED_QUERY", 400, "The query cannot be parsed.";
    MalformedSearch = "MALFORMED_SEARCH", 400, "The SOSL search cannot be parsed.";
    InvalidField = "INVALID_FIELD", 400, "No such field on the object.";
    InvalidType = "INVALID_TYPE", 400, "No such object.";
    NotFound = "NOT_FOUND", 404, "The record or resource does not exist.";
    EntityIsDeleted = "ENTITY_IS_DELETED", 404, "The record is in the recycle bin.";
    RequiredFieldMissing = "REQUIRED_FIELD_MISSING", 400, "A required field has no value.";
    StringTooLong = "STRING_TOO_LONG", 400, "A text value is longer than the field allows.";
    MalformedId = "MALFORMED_ID", 400, "A value is not a well-formed record id.";
    InvalidCrossReferenceKey = "INVALID_CROSS_REFERENCE_KEY", 400, "A reference names a record that does not exist.";
    FieldIntegrityException = "FIELD_INTEGRITY_EXCEPTION", 400, "A reference names a record of an object the field cannot point to.";
    DuplicateValue = "DUPLICATE_VALUE", 400, "A unique field already holds this value on another record.";
    InvalidFieldForInsertUpdate = "INVALID_FIELD_FOR_INSERT_UPDATE", 400, "The field cannot be written (read-only, or create-only on update).";
    InvalidOrNullForRestrictedPicklist = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", 400, "The value is not one of the picklist's values.";
    InvalidTypeOnFieldInRecord = "INVALID_TYPE_ON_FIELD_IN_RECORD", 400, "The value is not of the field's type.";
    NumberOutsideValidRange = "NUMBER_OUTSIDE_VALID_RANGE", 400, "The number has more digits than the field allows.";
    InvalidEmailAddress = "INVALID_EMAIL_ADDRESS", 400, "The value is not an email address.";
    EntityFailedIflastmodifiedOnUpdate = "ENTITY_FAILED_IFLASTMODIFIED_ON_UPDATE", 412, "The record changed since the version the caller read.";
    InvalidOperation = "INVALID_OPERATION", 400, "The operation is not allowed on this object or record.";
    InvalidNewPassword = "INVALID_NEW_PASSWORD", 400, "The password does not meet the password policy.";
    CannotUpdateConvertedLead = "CANNOT_UPDATE_CONVERTED_LEAD", 400, "A converted lead is read-only.";
    InvalidStatus = "INVALID_STATUS", 400, "The status is not one this operation accepts.";
    InsufficientAccessOnCrossReferenceEntity = "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", 400, "A lookup names a record the caller may not see.";
    JsonParserError = "JSON_PARSER_ERROR", 400, "The request body is not valid JSON of the expected shape.";
    AllOrNoneOperationRolledBack = "ALL_OR_NONE_OPERATION_ROLLED_BACK", 400, "Another record of an all-or-none operation failed.";
    InsufficientAccessOrReadonly = "INSUFFICIENT_ACCESS_OR_READONLY", 400, "The caller may not do this.";
    RequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED", 429, "Too many requests: the token's rate or the day's allowance is spent.";
    RequestEntityTooLarge = "REQUEST_ENTITY_TOO_LARGE", 413, "The request body is larger than the server accepts.";
    MultipleChoices = "MULTIPLE_CHOICES", 300, "An external id matches several records.";
    DuplicateExternalId = "DUPLICATE_EXTERNAL_ID", 300, "An external id matches several records, or is given twice.";
    ProcessingHalted = "PROCESSING_HALTED", 400, "The transaction was rolled back since another operation in the same transaction failed.";
    BatchProcessingHalted = "BATCH_PROCESSING_HALTED", 412, "A batch stopped at an earlier failing request.";
    InvalidReplicationDate = "INVALID_REPLICATION_DATE", 400, "The start or end of a replication window is missing or out of order.";
    InvalidQueryFilterOperator = "INVALID_QUERY_FILTER_OPERATOR", 400, "A condition's value does not suit its field.";
    InvalidQueryLocator = "INVALID_QUERY_LOCATOR", 400, "The query locator is unknown or expired.";
    MethodNotAllowed = "METHOD_NOT_ALLOWED", 405, "The resource does not answer this HTTP method.";
    StandardPriceNotDefined = "STANDARD_PRICE_NOT_DEFINED", 400, "A custom price needs the product's standard price first.";
    DeleteFailed = "DELETE_FAILED", 400, "The record cannot be deleted while others depend on it.";
    UnknownException = "UNKNOWN_EXCEPTION", 500, "An internal error; the cause is in the server log.";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One error about one record: the code, a message naming the field and the rule, and the API
/// names of the fields concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub code: ErrorCode,
    pub message: String,
    pub fields: Vec<String>,
}

impl RecordError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> RecordError {
        RecordError {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn on_field(code: ErrorCode, field: &str, message: impl Into<String>) -> RecordError {
        RecordError {
            code,
            message: message.into(),
            fields: vec![field.to_string()],
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RecordError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_as_salesforce_does() {
        assert_eq!(
            ErrorCode::RequiredFieldMissing.as_str(),
            "REQUIRED_FIELD_MISSING"
        );
        assert_eq!(
            ErrorCode::InvalidOrNullForRestrictedPicklist.as_str(),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        );
        assert_eq!(
            ErrorCode::EntityFailedIflastmodifiedOnUpdate.as_str(),
            "ENTITY_FAILED_IFLASTMODIFIED_ON_UPDATE"
        );
        assert_eq!(ErrorCode::MalformedId.http_status(), 400);
        assert_eq!(ErrorCode::NotFound.http_status(), 404);
    }
}
