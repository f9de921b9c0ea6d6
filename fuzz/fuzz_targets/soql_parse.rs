//! Any text: the SOQL and SOSL parsers answer a query or an error, never a panic; and whatever it
//! parses, it prints in a form that parses back to the same query.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The SOSL parser shares the lexer and the clause parser: it must not panic either.
    let _ = soql::parse_search(text);
    if let Ok(query) = soql::parse(text) {
        let printed = query.to_string();
        let again = soql::parse(&printed).expect("printed queries parse");
        assert_eq!(
            again, query,
            "print then parse changed the query: {printed}"
        );
    }
});
