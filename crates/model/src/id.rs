//! Salesforce-format record ids: a 15-character case-sensitive body whose first three characters
//! are the object's key prefix, and the 18-character case-safe form (body + 3 suffix characters
//! that encode which letters of the body are upper case).

use std::fmt;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Characters 4–6 of every id Rapport makes: Salesforce puts the instance ("pod") there; ours is
/// a fixed marker so a Rapport id is recognisable and the 9 remaining characters count records.
const INSTANCE: &str = "R00";

/// How many record numbers fit in the 9 base-62 characters after the prefix and instance.
pub const MAX_RECORD_NUMBER: u64 = 62u64.pow(9) - 1;

/// A record id, always held in its 15-character case-sensitive form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId([u8; 15]);

/// Why a string is not a record id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed id: {0}")]
pub struct MalformedId(pub String);

impl RecordId {
    /// Parses a 15- or 18-character id. An 18-character id is case-insensitive: its suffix
    /// restores the case of each letter, and the suffix must agree with the body.
    pub fn parse(text: &str) -> Result<RecordId, MalformedId> {
        let bad = || MalformedId(text.to_string());
        if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        match text.len() {
            15 => {
                let mut body = [0u8; 15];
                body.copy_from_slice(text.as_bytes());
                Ok(RecordId(body))
            }
            18 => {
                let bytes = text.as_bytes();
                let mut body = [0u8; 15];
                for chunk in 0..3 {
                    let suffix = bytes[15 + chunk].to_ascii_uppercase();
                    let bits = SUFFIX_ALPHABET
                        .iter()
                        .position(|&c| c == suffix)
                        .ok_or_else(bad)?;
                    for j in 0..5 {
                        let i = chunk * 5 + j;
                        let c = bytes[i];
                        body[i] = if c.is_ascii_alphabetic() {
                            if bits & (1 << j) != 0 {
                                c.to_ascii_uppercase()
                            } else {
                                c.to_ascii_lowercase()
                            }
                        } else if bits & (1 << j) != 0 {
                            // The suffix says "upper-case letter" where there is a digit.
                            return Err(bad());
                        } else {
                            c
                        };
                    }
                }
                Ok(RecordId(body))
            }
            _ => Err(bad()),
        }
    }

    /// Builds the id of record number `number` of the object with `prefix`.
    pub fn from_number(prefix: &str, number: u64) -> Option<RecordId> {
        if prefix.len() != 3
            || !prefix.bytes().all(|b| b.is_ascii_alphanumeric())
            || number > MAX_RECORD_NUMBER
        {
            return None;
        }
        let mut body = [b'0'; 15];
        body[..3].copy_from_slice(prefix.as_bytes());
        body[3..6].copy_from_slice(INSTANCE.as_bytes());
        let mut n = number;
        for slot in body[6..].iter_mut().rev() {
            *slot = BASE62[(n % 62) as usize];
            n /= 62;
        }
        Some(RecordId(body))
    }

    /// The record number of an id Rapport made (the inverse of [`RecordId::from_number`]);
    /// `None` for an id made elsewhere.
    pub fn record_number(&self) -> Option<u64> {
        if &self.0[3..6] != INSTANCE.as_bytes() {
            return None;
        }
        self.0[6..].iter().try_fold(0u64, |n, &c| {
            let digit = BASE62.iter().position(|&d| d == c)? as u64;
            Some(n * 62 + digit)
        })
    }

    /// The object's three-character key prefix.
    pub fn key_prefix(&self) -> &str {
        // The body is ASCII alphanumerics by construction.
        std::str::from_utf8(&self.0[..3]).unwrap_or("000")
    }

    /// The 15-character case-sensitive form (what the database stores).
    pub fn as_str15(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The 18-character case-safe form (what the API returns).
    pub fn to_18(&self) -> String {
        let mut out = String::with_capacity(18);
        out.push_str(self.as_str15());
        for chunk in self.0.chunks(5) {
            let mut bits = 0usize;
            for (j, c) in chunk.iter().enumerate() {
                if c.is_ascii_uppercase() {
                    bits |= 1 << j;
                }
            }
            out.push(SUFFIX_ALPHABET[bits] as char);
        }
        out
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_18())
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.to_18())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_matches_the_reference_vectors() {
        let cases = [
            ("AAAAbAAAAbAAAAb", "PPP"),
            ("aaAABaaAABaaAAB", "222"),
            ("aaaAbaaaAbaaaAb", "III"),
            ("aaaabaaaabaaaab", "AAA"),
            ("001A0000006Vm9r", "IAC"),
            ("001A0000006VM9r", "IAG"),
            ("50130000000014C", "AAQ"),
        ];
        for (body, suffix) in cases {
            let id = RecordId::parse(body).unwrap();
            assert_eq!(id.to_18(), format!("{body}{suffix}"));
        }
    }

    #[test]
    fn record_numbers_round_trip() {
        for n in [0, 1, 61, 62, 1_000_000, MAX_RECORD_NUMBER] {
            let id = RecordId::from_number("001", n).unwrap();
            assert_eq!(id.record_number(), Some(n));
        }
        assert_eq!(
            RecordId::parse("001A0000006Vm9r").unwrap().record_number(),
            None
        );
    }

    #[test]
    fn eighteen_character_ids_are_case_insensitive() {
        let id = RecordId::parse("001A0000006Vm9r").unwrap();
        let lower = id.to_18().to_ascii_lowercase();
        assert_eq!(RecordId::parse(&lower).unwrap(), id);
        assert_eq!(
            RecordId::parse(&id.to_18().to_ascii_uppercase()).unwrap(),
            id
        );
    }

    #[test]
    fn bad_ids_are_refused() {
        for bad in [
            "",
            "001",
            "001A0000006Vm9r!",
            "001A0000006Vm9rIA",
            "0010000000000001AZ",
            "001A0000006Vm9r-AC",
        ] {
            assert!(RecordId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_round_trip_through_ids() {
        let id = RecordId::from_number("001", 123_456_789).unwrap();
        assert_eq!(id.key_prefix(), "001");
        assert_eq!(id.as_str15().len(), 15);
        assert_eq!(RecordId::parse(&id.to_18()).unwrap(), id);
        assert!(RecordId::from_number("001", 1) < RecordId::from_number("001", 2));
        assert!(RecordId::from_number("001", MAX_RECORD_NUMBER + 1).is_none());
    }
}
