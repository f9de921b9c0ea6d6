//! Tests of the parser and printer: positive cases (each asserting the tree and the
//! round trip `parse(print(q)) == q`), negative cases (message and position), and randomized
//! no-panic and round-trip tests.

use crate::*;

// ----- helpers -----

/// Parses `text`, panicking with the error if it fails, and checks the round trip.
fn ok(text: &str) -> Query {
    let query = parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"));
    assert_round_trip(&query);
    query
}

fn assert_round_trip(query: &Query) {
    let printed = query.to_string();
    let reparsed =
        parse(&printed).unwrap_or_else(|e| panic!("printed {printed:?} does not parse: {e}"));
    assert_eq!(&reparsed, query, "printed: {printed}");
}

/// Asserts that `text` fails with a message containing `message` at `line`:`column`.
fn err(text: &str, message: &str, line: u32, column: u32) -> ParseError {
    let error = parse(text).expect_err(text);
    assert!(
        error.message.contains(message),
        "{text:?}: message {:?} lacks {message:?}",
        error.message
    );
    assert_eq!(
        (error.span.line, error.span.column),
        (line, column),
        "{text:?}: {error}"
    );
    error
}

/// The canonical print of a query.
fn canonical(text: &str) -> String {
    ok(text).to_string()
}

fn filter(query: &Query) -> &Condition {
    query.filter.as_ref().expect("a WHERE clause")
}

fn items(query: &Query) -> Vec<String> {
    query.select.iter().map(ToString::to_string).collect()
}

fn path_of(item: &SelectItem) -> Vec<&str> {
    match item {
        SelectItem::Expr {
            expr: Expr::Field(path),
            alias: None,
        } => path.parts.iter().map(|p| p.text.as_str()).collect(),
        other => panic!("not a plain field: {other:?}"),
    }
}

/// The function name, argument texts and alias of a select item.
fn function_of(item: &SelectItem) -> (&str, Vec<String>, Option<&str>) {
    match item {
        SelectItem::Expr {
            expr: Expr::Function { name, args, .. },
            alias,
        } => (
            name.text.as_str(),
            args.iter().map(ToString::to_string).collect(),
            alias.as_ref().map(|a| a.text.as_str()),
        ),
        other => panic!("not a function: {other:?}"),
    }
}

/// The left side, operator and right literal of a comparison.
fn compare_of(condition: &Condition) -> (String, CompareOp, &LiteralKind) {
    match condition {
        Condition::Compare {
            left, op, right, ..
        } => (left.to_string(), *op, &right.kind),
        other => panic!("not a comparison: {other:?}"),
    }
}

/// The right-hand literal of `SELECT Id FROM Account WHERE X = <value>`.
fn value(text: &str) -> LiteralKind {
    let query = ok(&format!("SELECT Id FROM Account WHERE X = {text}"));
    compare_of(filter(&query)).2.clone()
}

fn string(text: &str) -> LiteralKind {
    LiteralKind::String(text.to_string())
}

fn number(text: &str) -> LiteralKind {
    LiteralKind::Number(text.to_string())
}

fn like_pattern(condition: &Condition) -> (&str, bool, &str) {
    match condition {
        Condition::Like {
            left: Expr::Field(path),
            negated,
            pattern,
            ..
        } => match &pattern.kind {
            LiteralKind::String(text) => (path.parts[0].text.as_str(), *negated, text.as_str()),
            other => panic!("pattern not a string: {other:?}"),
        },
        other => panic!("not LIKE: {other:?}"),
    }
}

// ===== positive cases =====

#[test]
fn simplest_query() {
    let q = ok("SELECT Id FROM Account");
    assert_eq!(path_of(&q.select[0]), ["Id"]);
    assert_eq!(q.from.text, "Account");
    assert_eq!(
        (
            q.alias.as_ref(),
            q.scope.as_ref(),
            q.filter.as_ref(),
            q.with.as_ref()
        ),
        (None, None, None, None)
    );
    assert_eq!(
        (q.group_by.as_ref(), q.having.as_ref(), q.order_by.len()),
        (None, None, 0)
    );
    assert_eq!((q.limit, q.offset, q.for_clause), (None, None, None));
}

#[test]
fn keywords_are_case_insensitive() {
    let text = "select id, name from account where name = 'x' order by name desc limit 5";
    assert_eq!(
        canonical(text),
        "SELECT id, name FROM account WHERE name = 'x' ORDER BY name DESC LIMIT 5"
    );
}

#[test]
fn several_fields() {
    let q = ok("SELECT Id, Name, Industry FROM Account");
    assert_eq!(items(&q), ["Id", "Name", "Industry"]);
}

#[test]
fn relationship_paths_of_any_depth() {
    let q = ok("SELECT Account.Name, Account.Owner.Manager.Profile.Name FROM Contact");
    assert_eq!(path_of(&q.select[0]), ["Account", "Name"]);
    assert_eq!(
        path_of(&q.select[1]),
        ["Account", "Owner", "Manager", "Profile", "Name"]
    );
}

#[test]
fn count_without_arguments() {
    let q = ok("SELECT COUNT() FROM Account");
    assert_eq!(function_of(&q.select[0]), ("COUNT", vec![], None));
}

#[test]
fn count_of_a_field_with_alias() {
    let q = ok("SELECT COUNT(Id) cnt FROM Contact");
    assert_eq!(
        function_of(&q.select[0]),
        ("COUNT", vec!["Id".to_string()], Some("cnt"))
    );
}

#[test]
fn count_distinct() {
    let q = ok("SELECT COUNT_DISTINCT(Industry) FROM Account");
    assert_eq!(
        function_of(&q.select[0]),
        ("COUNT_DISTINCT", vec!["Industry".to_string()], None)
    );
}

#[test]
fn sum_avg_min_max_with_aliases() {
    let q = ok(
        "SELECT SUM(Amount) total, AVG(Amount) mean, MIN(CloseDate), MAX(CloseDate) latest FROM Opportunity",
    );
    assert_eq!(
        function_of(&q.select[0]),
        ("SUM", vec!["Amount".to_string()], Some("total"))
    );
    assert_eq!(
        function_of(&q.select[1]),
        ("AVG", vec!["Amount".to_string()], Some("mean"))
    );
    assert_eq!(
        function_of(&q.select[2]),
        ("MIN", vec!["CloseDate".to_string()], None)
    );
    assert_eq!(
        function_of(&q.select[3]),
        ("MAX", vec!["CloseDate".to_string()], Some("latest"))
    );
}

#[test]
fn date_function_with_alias() {
    let q = ok(
        "SELECT CALENDAR_YEAR(CreatedDate) yr, COUNT(Id) FROM Account GROUP BY CALENDAR_YEAR(CreatedDate)",
    );
    assert_eq!(
        function_of(&q.select[0]),
        ("CALENDAR_YEAR", vec!["CreatedDate".to_string()], Some("yr"))
    );
    assert_eq!(
        q.group_by,
        Some(GroupBy::Plain(vec![function_expr(&q.select[0])]))
    );
}

fn function_expr(item: &SelectItem) -> Expr {
    match item {
        SelectItem::Expr { expr, .. } => expr.clone(),
        other => panic!("not an expression: {other:?}"),
    }
}

#[test]
fn nested_functions() {
    let q = ok("SELECT HOUR_IN_DAY(convertTimezone(CreatedDate)) h FROM Event");
    let (name, args, alias) = function_of(&q.select[0]);
    assert_eq!((name, alias), ("HOUR_IN_DAY", Some("h")));
    assert_eq!(args, ["convertTimezone(CreatedDate)"]);
    match function_expr(&q.select[0]) {
        Expr::Function { args, .. } => assert!(
            matches!(&args[0], Expr::Function { name, .. } if name.text == "convertTimezone")
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn to_label_format_and_convert_currency() {
    let q =
        ok("SELECT toLabel(Status), FORMAT(Amount) amt, convertCurrency(Amount) FROM Opportunity");
    assert_eq!(
        function_of(&q.select[0]),
        ("toLabel", vec!["Status".to_string()], None)
    );
    assert_eq!(
        function_of(&q.select[1]),
        ("FORMAT", vec!["Amount".to_string()], Some("amt"))
    );
    assert_eq!(
        function_of(&q.select[2]),
        ("convertCurrency", vec!["Amount".to_string()], None)
    );
}

#[test]
fn function_names_keep_their_case() {
    let q = ok("select count(id) from contact");
    assert_eq!(function_of(&q.select[0]).0, "count");
    assert_eq!(q.to_string(), "SELECT count(id) FROM contact");
}

#[test]
fn function_with_several_arguments() {
    let q = ok("SELECT Foo(a, b.c, Bar(d)) x FROM Thing");
    assert_eq!(
        function_of(&q.select[0]),
        (
            "Foo",
            vec!["a".into(), "b.c".into(), "Bar(d)".into()],
            Some("x")
        )
    );
}

#[test]
fn grouping_with_rollup_and_having() {
    let text = "SELECT LeadSource, Rating, GROUPING(LeadSource) grpLS, COUNT(Name) cnt FROM Lead \
                GROUP BY ROLLUP(LeadSource, Rating) HAVING COUNT(Name) > 1";
    let q = ok(text);
    assert_eq!(
        function_of(&q.select[2]),
        ("GROUPING", vec!["LeadSource".to_string()], Some("grpLS"))
    );
    let Some(GroupBy::Rollup(exprs)) = &q.group_by else {
        panic!("{:?}", q.group_by)
    };
    assert_eq!(
        exprs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["LeadSource", "Rating"]
    );
    let (left, op, right) = compare_of(q.having.as_ref().unwrap());
    assert_eq!(
        (left.as_str(), op, right),
        ("COUNT(Name)", CompareOp::Gt, &number("1"))
    );
}

#[test]
fn group_by_cube() {
    let q = ok(
        "SELECT Type, BillingCountry, COUNT(Id) FROM Account GROUP BY CUBE(Type, BillingCountry)",
    );
    let Some(GroupBy::Cube(exprs)) = &q.group_by else {
        panic!("{:?}", q.group_by)
    };
    assert_eq!(exprs.len(), 2);
    assert!(
        q.to_string()
            .ends_with("GROUP BY CUBE(Type, BillingCountry)")
    );
}

#[test]
fn group_by_rollup_lower_case() {
    let q = ok("select a, count(id) from x group by rollup(a)");
    assert!(matches!(&q.group_by, Some(GroupBy::Rollup(e)) if e.len() == 1));
    assert!(q.to_string().ends_with("GROUP BY ROLLUP(a)"));
}

#[test]
fn group_by_plain_list() {
    let q = ok("SELECT AccountId, Type, COUNT(Id) FROM Contact GROUP BY AccountId, Type");
    let Some(GroupBy::Plain(exprs)) = &q.group_by else {
        panic!("{:?}", q.group_by)
    };
    assert_eq!(
        exprs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["AccountId", "Type"]
    );
}

#[test]
fn field_named_rollup_is_a_plain_group() {
    let q = ok("SELECT Rollup FROM X GROUP BY Rollup");
    assert!(matches!(&q.group_by, Some(GroupBy::Plain(e)) if e[0].to_string() == "Rollup"));
}

#[test]
fn aliases_on_grouped_fields() {
    let q = ok("SELECT Name n, MAX(Amount) m FROM Opportunity GROUP BY Name");
    match &q.select[0] {
        SelectItem::Expr {
            expr: Expr::Field(path),
            alias: Some(alias),
        } => {
            assert_eq!(
                (path.parts[0].text.as_str(), alias.text.as_str()),
                ("Name", "n")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(function_of(&q.select[1]).2, Some("m"));
}

#[test]
fn field_before_from_is_not_aliased() {
    let q = ok("SELECT Id, Name FROM Account");
    assert_eq!(path_of(&q.select[1]), ["Name"]);
    assert_eq!(q.from.text, "Account");
}

#[test]
fn child_subquery_in_select() {
    let q = ok("SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account");
    let SelectItem::Subquery(sub) = &q.select[2] else {
        panic!("{:?}", q.select[2])
    };
    assert_eq!(sub.from.text, "Contacts");
    assert_eq!(items(sub), ["Id", "LastName"]);
}

#[test]
fn child_subquery_with_clauses_and_alias_inside() {
    let text = "SELECT Name, (SELECT COUNT(Id) c FROM Opportunities WHERE IsWon = true ORDER BY CloseDate DESC LIMIT 3) FROM Account";
    let q = ok(text);
    let SelectItem::Subquery(sub) = &q.select[1] else {
        panic!()
    };
    assert_eq!(function_of(&sub.select[0]).2, Some("c"));
    assert_eq!(compare_of(filter(sub)).2, &LiteralKind::Boolean(true));
    assert!(sub.order_by[0].descending);
    assert_eq!(sub.limit, Some(3));
}

#[test]
fn several_child_subqueries() {
    let q = ok("SELECT Id, (SELECT Id FROM Contacts), (SELECT Id FROM Cases) FROM Account");
    let froms: Vec<&str> = q
        .select
        .iter()
        .filter_map(|item| match item {
            SelectItem::Subquery(sub) => Some(sub.from.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(froms, ["Contacts", "Cases"]);
}

#[test]
fn typeof_with_else() {
    let text = "SELECT TYPEOF What WHEN Account THEN Phone, NumberOfEmployees WHEN Opportunity THEN Amount, CloseDate ELSE Name, Email END FROM Event";
    let q = ok(text);
    let SelectItem::TypeOf {
        relationship,
        whens,
        otherwise,
        ..
    } = &q.select[0]
    else {
        panic!("{:?}", q.select[0])
    };
    assert_eq!(relationship.text, "What");
    assert_eq!(whens.len(), 2);
    assert_eq!(whens[0].0.text, "Account");
    assert_eq!(
        whens[0]
            .1
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["Phone", "NumberOfEmployees"]
    );
    assert_eq!(whens[1].0.text, "Opportunity");
    assert_eq!(
        otherwise
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["Name", "Email"]
    );
    assert_eq!(q.to_string(), text);
}

#[test]
fn typeof_without_else_among_fields() {
    let q =
        ok("select Id, typeof Owner when User then Username, Manager.Name end, Subject from Task");
    let SelectItem::TypeOf {
        whens, otherwise, ..
    } = &q.select[1]
    else {
        panic!()
    };
    assert_eq!(whens[0].1[1].parts.len(), 2);
    assert!(otherwise.is_empty());
    assert_eq!(items(&q)[2], "Subject");
}

#[test]
fn fields_all_with_limit() {
    let q = ok("SELECT FIELDS(ALL) FROM Account LIMIT 200");
    assert!(matches!(&q.select[0], SelectItem::Fields { kind, .. } if kind.text == "ALL"));
    assert_eq!(q.limit, Some(200));
}

#[test]
fn fields_standard_lower_case() {
    let q = ok("select fields(standard) from Contact");
    assert!(matches!(&q.select[0], SelectItem::Fields { kind, .. } if kind.text == "standard"));
    assert_eq!(q.to_string(), "SELECT FIELDS(standard) FROM Contact");
}

#[test]
fn fields_custom_with_other_items() {
    let q = ok("SELECT Id, FIELDS(CUSTOM) FROM Account LIMIT 10");
    assert!(matches!(&q.select[1], SelectItem::Fields { kind, .. } if kind.text == "CUSTOM"));
}

#[test]
fn object_alias_and_aliased_paths() {
    let q = ok("SELECT c.LastName, c.Account.Name FROM Contact c WHERE c.LastName = 'Doe'");
    assert_eq!(q.alias.as_ref().map(|a| a.text.as_str()), Some("c"));
    assert_eq!(path_of(&q.select[1]), ["c", "Account", "Name"]);
    assert_eq!(compare_of(filter(&q)).0, "c.LastName");
}

#[test]
fn using_scope() {
    let q = ok("SELECT Id FROM Account USING SCOPE mine WHERE Name != null");
    assert_eq!(q.scope.as_ref().map(|s| s.text.as_str()), Some("mine"));
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM Account USING SCOPE mine WHERE Name != NULL"
    );
}

#[test]
fn alias_and_using_scope() {
    let q = ok("SELECT a.Id FROM Account a USING SCOPE Everything");
    assert_eq!(
        (q.alias.unwrap().text, q.scope.unwrap().text),
        ("a".to_string(), "Everything".to_string())
    );
}

#[test]
fn with_security_enforced() {
    let q = ok("SELECT Id FROM Account WHERE Name = 'x' WITH SECURITY_ENFORCED");
    assert_eq!(
        q.with.as_ref().map(|w| w.text.as_str()),
        Some("SECURITY_ENFORCED")
    );
    assert!(q.filter.is_some());
}

#[test]
fn with_user_mode() {
    let q = ok("SELECT Id FROM Account WITH USER_MODE LIMIT 1");
    assert_eq!(q.with.unwrap().text, "USER_MODE");
    assert_eq!(q.limit, Some(1));
}

#[test]
fn order_by_directions_and_nulls() {
    let q = ok(
        "SELECT Id FROM Account ORDER BY Name DESC NULLS LAST, Industry ASC, CreatedDate NULLS FIRST",
    );
    let items: Vec<(String, bool, Option<bool>)> = q
        .order_by
        .iter()
        .map(|o| (o.expr.to_string(), o.descending, o.nulls_last))
        .collect();
    assert_eq!(
        items,
        [
            ("Name".to_string(), true, Some(true)),
            ("Industry".to_string(), false, None),
            ("CreatedDate".to_string(), false, Some(false)),
        ]
    );
    assert!(
        q.to_string()
            .ends_with("ORDER BY Name DESC NULLS LAST, Industry, CreatedDate NULLS FIRST")
    );
}

#[test]
fn order_by_aggregate() {
    let q =
        ok("SELECT AccountId, COUNT(Id) FROM Contact GROUP BY AccountId ORDER BY COUNT(Id) DESC");
    assert_eq!(q.order_by[0].expr.to_string(), "COUNT(Id)");
    assert!(q.order_by[0].descending);
}

#[test]
fn limit_and_offset() {
    let q = ok("SELECT Name FROM Account ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 5");
    assert_eq!((q.limit, q.offset), (Some(5), Some(5)));
    assert_eq!(q.order_by[0].nulls_last, Some(true));
}

#[test]
fn limit_zero_and_large() {
    let q = ok("SELECT Id FROM Account LIMIT 0 OFFSET 18446744073709551615");
    assert_eq!((q.limit, q.offset), (Some(0), Some(u64::MAX)));
}

#[test]
fn for_view() {
    assert_eq!(
        ok("SELECT Id FROM Account LIMIT 1 FOR VIEW").for_clause,
        Some(ForClause::View)
    );
}

#[test]
fn for_reference() {
    assert_eq!(
        ok("SELECT Id FROM Account for reference").for_clause,
        Some(ForClause::Reference)
    );
}

#[test]
fn for_update() {
    assert_eq!(
        ok("SELECT Id FROM Account WHERE Id = '001' FOR UPDATE").for_clause,
        Some(ForClause::Update)
    );
}

#[test]
fn every_clause_in_order() {
    let text = "SELECT Industry ind, COUNT(Id) cnt FROM Account a USING SCOPE team WHERE a.Name LIKE 'A%' \
                WITH SECURITY_ENFORCED GROUP BY Industry HAVING COUNT(Id) >= 2 ORDER BY Industry NULLS LAST \
                LIMIT 10 OFFSET 20 FOR VIEW";
    let q = ok(text);
    assert_eq!(
        q.to_string(),
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    assert_eq!(q.scope.as_ref().unwrap().text, "team");
    assert_eq!(
        (q.limit, q.offset, q.for_clause),
        (Some(10), Some(20), Some(ForClause::View))
    );
}

#[test]
fn compare_equals_string() {
    let q = ok("SELECT Id FROM Contact WHERE LastName = 'Doe'");
    assert_eq!(
        compare_of(filter(&q)),
        ("LastName".to_string(), CompareOp::Eq, &string("Doe"))
    );
}

#[test]
fn not_equals_angle_form_prints_bang() {
    let q = ok("SELECT Id FROM Account WHERE Name <> 'x'");
    assert_eq!(compare_of(filter(&q)).1, CompareOp::Ne);
    assert_eq!(q.to_string(), "SELECT Id FROM Account WHERE Name != 'x'");
}

#[test]
fn not_equals_bang_form() {
    let q = ok("SELECT Id FROM Account WHERE Name!='x'");
    assert_eq!(compare_of(filter(&q)).1, CompareOp::Ne);
}

#[test]
fn ordering_operators() {
    let q = ok("SELECT Id FROM O WHERE a < 1 AND b <= 2 AND c > 3 AND d >= 4");
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    let ops: Vec<CompareOp> = terms.iter().map(|t| compare_of(t).1).collect();
    assert_eq!(
        ops,
        [CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge]
    );
}

#[test]
fn and_chain_is_flattened() {
    let q = ok("SELECT Id FROM A WHERE a = 1 AND b = 2 and c = 3");
    let Condition::And(terms) = filter(&q) else {
        panic!("{:?}", filter(&q))
    };
    assert_eq!(terms.len(), 3);
    assert_eq!(compare_of(&terms[2]).0, "c");
}

#[test]
fn or_chain_is_flattened() {
    let q = ok("SELECT Id FROM A WHERE a = 1 OR b = 2 OR c = 3 OR d = 4");
    assert!(matches!(filter(&q), Condition::Or(terms) if terms.len() == 4));
}

#[test]
fn parentheses_allow_mixing() {
    let q = ok("SELECT Id FROM A WHERE a = 1 AND (b = 2 OR c = 3)");
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    assert!(matches!(&terms[1], Condition::Or(inner) if inner.len() == 2));
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM A WHERE a = 1 AND (b = 2 OR c = 3)"
    );
}

#[test]
fn nested_groups_keep_their_shape() {
    let q = ok("SELECT Id FROM A WHERE (a = 1 AND b = 2) AND c = 3");
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    assert_eq!(terms.len(), 2);
    assert!(matches!(&terms[0], Condition::And(inner) if inner.len() == 2));
}

#[test]
fn redundant_parentheses_vanish() {
    let q = ok("SELECT Id FROM A WHERE ((a = 1))");
    assert!(matches!(filter(&q), Condition::Compare { .. }));
    assert_eq!(q.to_string(), "SELECT Id FROM A WHERE a = 1");
}

#[test]
fn not_before_parentheses() {
    let q = ok("SELECT Id FROM A WHERE NOT (a = 1 OR b = 2)");
    let Condition::Not(inner) = filter(&q) else {
        panic!()
    };
    assert!(matches!(**inner, Condition::Or(_)));
    assert_eq!(q.to_string(), "SELECT Id FROM A WHERE NOT (a = 1 OR b = 2)");
}

#[test]
fn not_before_simple_condition() {
    let q = ok("SELECT Id FROM A WHERE NOT Name = 'x' AND b = 1");
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    assert!(
        matches!(&terms[0], Condition::Not(inner) if matches!(**inner, Condition::Compare { .. }))
    );
}

#[test]
fn double_negation_needs_parentheses() {
    let q = ok("SELECT Id FROM A WHERE NOT (NOT a = 1)");
    assert!(matches!(filter(&q), Condition::Not(inner) if matches!(**inner, Condition::Not(_))));
    assert_eq!(q.to_string(), "SELECT Id FROM A WHERE NOT (NOT a = 1)");
}

#[test]
fn jsforce_style_negated_like() {
    let q = ok("SELECT Id FROM Account WHERE (NOT Name LIKE 'x%') AND Id != null");
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    let Condition::Not(inner) = &terms[0] else {
        panic!()
    };
    assert_eq!(like_pattern(inner), ("Name", false, "x%"));
}

#[test]
fn not_like_sets_negated() {
    let q = ok("SELECT Id FROM Account WHERE Name NOT LIKE 'A%'");
    assert_eq!(like_pattern(filter(&q)), ("Name", true, "A%"));
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM Account WHERE Name NOT LIKE 'A%'"
    );
}

#[test]
fn like_with_chinese_text() {
    let q = ok("SELECT Id FROM Account WHERE Name LIKE '华为%'");
    assert_eq!(like_pattern(filter(&q)), ("Name", false, "华为%"));
}

#[test]
fn like_keeps_wildcard_escapes() {
    let q = ok(r"SELECT Id FROM Account WHERE Name LIKE '100\%%' OR Name LIKE 'a\_b'");
    let Condition::Or(terms) = filter(&q) else {
        panic!()
    };
    assert_eq!(like_pattern(&terms[0]).2, r"100\%%");
    assert_eq!(like_pattern(&terms[1]).2, r"a\_b");
    assert_eq!(
        q.to_string(),
        r"SELECT Id FROM Account WHERE Name LIKE '100\%%' OR Name LIKE 'a\_b'"
    );
}

#[test]
fn like_keeps_escaped_backslash_distinct_from_escaped_underscore() {
    let q = ok(
        r"SELECT Id FROM A WHERE a LIKE 'x\\_' AND b LIKE 'x\_' AND c LIKE '\u005C%' AND d LIKE '\''",
    );
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    assert_eq!(like_pattern(&terms[0]).2, r"x\\_");
    assert_eq!(like_pattern(&terms[1]).2, r"x\_");
    assert_eq!(like_pattern(&terms[2]).2, r"\\%");
    assert_eq!(like_pattern(&terms[3]).2, "'");
}

#[test]
fn string_escapes_are_decoded() {
    assert_eq!(value(r"'O\'Brien'"), string("O'Brien"));
    assert_eq!(
        value(r#"'a\nb\rc\td\be\ff\"g\\h'"#),
        string("a\nb\rc\td\u{8}e\u{c}f\"g\\h")
    );
}

#[test]
fn unicode_escapes_are_decoded() {
    assert_eq!(value(r"'caf\u00e9 \u534E\u4E3A'"), string("café 华为"));
    assert_eq!(value(r"'\uD83D\uDE00'"), string("😀"));
}

#[test]
fn strings_are_reescaped_when_printed() {
    let q = ok(r"SELECT Id FROM A WHERE a = 'it\'s a\\b' AND b = 'line\nnext' AND c = ''");
    assert_eq!(
        q.to_string(),
        r"SELECT Id FROM A WHERE a = 'it\'s a\\b' AND b = 'line\nnext' AND c = ''"
    );
}

#[test]
fn raw_unicode_and_newlines_inside_strings() {
    assert_eq!(value("'华为\n技术'"), string("华为\n技术"));
    assert_eq!(value("'😀 é'"), string("😀 é"));
}

#[test]
fn in_list_of_literals() {
    let q = ok("SELECT Id FROM Account WHERE Industry IN ('Energy', 'Retail', NULL, 5)");
    let Condition::In {
        left,
        negated,
        values,
        ..
    } = filter(&q)
    else {
        panic!()
    };
    assert_eq!(
        (left.to_string(), *negated),
        ("Industry".to_string(), false)
    );
    let kinds: Vec<LiteralKind> = values.iter().map(|v| v.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            string("Energy"),
            string("Retail"),
            LiteralKind::Null,
            number("5")
        ]
    );
}

#[test]
fn not_in_list() {
    let q = ok("SELECT Id FROM Account WHERE Industry NOT IN ('Energy')");
    assert!(matches!(filter(&q), Condition::In { negated: true, values, .. } if values.len() == 1));
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM Account WHERE Industry NOT IN ('Energy')"
    );
}

#[test]
fn in_list_of_dates_and_date_literals() {
    let q = ok("SELECT Id FROM Opportunity WHERE CloseDate IN (2024-01-01, TODAY, LAST_N_DAYS:3)");
    let Condition::In { values, .. } = filter(&q) else {
        panic!()
    };
    assert_eq!(values[0].kind, LiteralKind::Date("2024-01-01".to_string()));
    assert_eq!(
        values[2].kind,
        LiteralKind::DateLiteral {
            name: "LAST_N_DAYS".to_string(),
            n: Some(3)
        }
    );
}

#[test]
fn semi_join() {
    let q = ok(
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName LIKE 'D%')",
    );
    let Condition::InQuery {
        left,
        negated,
        query,
        ..
    } = filter(&q)
    else {
        panic!()
    };
    assert_eq!((left.to_string(), *negated), ("Id".to_string(), false));
    assert_eq!(query.from.text, "Contact");
    assert_eq!(like_pattern(filter(query)).2, "D%");
}

#[test]
fn anti_join() {
    let q = ok("SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)");
    assert!(matches!(
        filter(&q),
        Condition::InQuery { negated: true, .. }
    ));
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)"
    );
}

#[test]
fn subqueries_nest_in_select_and_in() {
    let text = "SELECT Id, (SELECT Id FROM Contacts WHERE Id IN (SELECT WhoId FROM Task WHERE Subject IN (SELECT Name FROM Topic))) FROM Account";
    let q = ok(text);
    let SelectItem::Subquery(child) = &q.select[1] else {
        panic!()
    };
    let Condition::InQuery { query: tasks, .. } = filter(child) else {
        panic!()
    };
    let Condition::InQuery { query: topics, .. } = filter(tasks) else {
        panic!()
    };
    assert_eq!(
        (tasks.from.text.as_str(), topics.from.text.as_str()),
        ("Task", "Topic")
    );
    assert_eq!(q.to_string(), text);
}

#[test]
fn includes_multi_select_values() {
    let q = ok("SELECT Id FROM Contact WHERE Interests__c INCLUDES ('a;b', 'c')");
    let Condition::Includes {
        left,
        excludes,
        values,
        ..
    } = filter(&q)
    else {
        panic!()
    };
    assert_eq!(
        (left.to_string(), *excludes, values.len()),
        ("Interests__c".to_string(), false, 2)
    );
    assert_eq!(values[0].kind, string("a;b"));
}

#[test]
fn excludes_multi_select_values() {
    let q = ok("SELECT Id FROM Contact WHERE Interests__c excludes ('x')");
    assert!(matches!(
        filter(&q),
        Condition::Includes { excludes: true, .. }
    ));
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM Contact WHERE Interests__c EXCLUDES ('x')"
    );
}

#[test]
fn number_literals_keep_their_text() {
    for text in ["10", "-3.5", "+2", ".5", "-.5", "1e3", "1.5E-2", "0", "007"] {
        assert_eq!(value(text), number(text), "{text}");
    }
}

#[test]
fn numbers_touching_operators() {
    let q = ok("SELECT Id FROM Opportunity WHERE Amount>-5 AND Amount<=+10.5");
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    assert_eq!(compare_of(&terms[0]).2, &number("-5"));
    assert_eq!(compare_of(&terms[1]).2, &number("+10.5"));
}

#[test]
fn booleans_are_case_insensitive() {
    assert_eq!(value("true"), LiteralKind::Boolean(true));
    assert_eq!(value("FALSE"), LiteralKind::Boolean(false));
    assert_eq!(value("False"), LiteralKind::Boolean(false));
}

#[test]
fn null_is_case_insensitive() {
    assert_eq!(value("null"), LiteralKind::Null);
    assert_eq!(value("NuLL"), LiteralKind::Null);
}

#[test]
fn date_literal() {
    assert_eq!(
        value("2024-05-01"),
        LiteralKind::Date("2024-05-01".to_string())
    );
}

#[test]
fn datetime_literal_with_z() {
    assert_eq!(
        value("2024-01-01T00:00:00Z"),
        LiteralKind::DateTime("2024-01-01T00:00:00Z".to_string())
    );
}

#[test]
fn datetime_literal_with_offsets() {
    for text in [
        "2024-01-02T03:04:05+00:00",
        "2024-01-31T10:00:00.000+08:00",
        "2024-01-31T10:00:00-0500",
        "2024-01-31T10:00:00.1Z",
    ] {
        assert_eq!(
            value(text),
            LiteralKind::DateTime(text.to_string()),
            "{text}"
        );
    }
}

#[test]
fn every_plain_relative_date_literal() {
    let names = "YESTERDAY TODAY TOMORROW LAST_WEEK THIS_WEEK NEXT_WEEK LAST_MONTH THIS_MONTH \
                 NEXT_MONTH LAST_90_DAYS NEXT_90_DAYS THIS_QUARTER LAST_QUARTER NEXT_QUARTER \
                 THIS_YEAR LAST_YEAR NEXT_YEAR THIS_FISCAL_QUARTER LAST_FISCAL_QUARTER \
                 NEXT_FISCAL_QUARTER THIS_FISCAL_YEAR LAST_FISCAL_YEAR NEXT_FISCAL_YEAR";
    for name in names.split_whitespace() {
        let want = LiteralKind::DateLiteral {
            name: name.to_string(),
            n: None,
        };
        assert_eq!(value(name), want, "{name}");
        assert_eq!(value(&name.to_lowercase()), want, "{name} in lower case");
    }
}

#[test]
fn every_relative_date_literal_with_n() {
    let names = "LAST_N_DAYS NEXT_N_DAYS N_DAYS_AGO LAST_N_WEEKS NEXT_N_WEEKS \
                 N_WEEKS_AGO LAST_N_MONTHS NEXT_N_MONTHS N_MONTHS_AGO LAST_N_QUARTERS \
                 NEXT_N_QUARTERS N_QUARTERS_AGO LAST_N_YEARS NEXT_N_YEARS N_YEARS_AGO \
                 LAST_N_FISCAL_QUARTERS NEXT_N_FISCAL_QUARTERS N_FISCAL_QUARTERS_AGO \
                 LAST_N_FISCAL_YEARS NEXT_N_FISCAL_YEARS N_FISCAL_YEARS_AGO";
    for (i, name) in names.split_whitespace().enumerate() {
        let n = i as i64 * 7;
        let want = LiteralKind::DateLiteral {
            name: name.to_string(),
            n: Some(n),
        };
        assert_eq!(value(&format!("{name}:{n}")), want, "{name}");
    }
}

#[test]
fn relative_date_literal_is_upper_cased_and_printed() {
    let q = ok(
        "SELECT Id FROM Account WHERE CreatedDate > last_n_days:30 AND LastModifiedDate = today",
    );
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    assert_eq!(
        compare_of(&terms[0]).2,
        &LiteralKind::DateLiteral {
            name: "LAST_N_DAYS".to_string(),
            n: Some(30)
        }
    );
    assert_eq!(
        q.to_string(),
        "SELECT Id FROM Account WHERE CreatedDate > LAST_N_DAYS:30 AND LastModifiedDate = TODAY"
    );
}

#[test]
fn relative_date_literal_with_spaces_around_colon() {
    assert_eq!(
        value("NEXT_N_WEEKS : 2"),
        LiteralKind::DateLiteral {
            name: "NEXT_N_WEEKS".to_string(),
            n: Some(2)
        }
    );
}

#[test]
fn currency_literals() {
    assert_eq!(
        value("USD5000"),
        LiteralKind::Currency {
            code: "USD".to_string(),
            amount: "5000".to_string()
        }
    );
    assert_eq!(
        value("CNY1.5"),
        LiteralKind::Currency {
            code: "CNY".to_string(),
            amount: "1.5".to_string()
        }
    );
    let q = ok("SELECT Id FROM Opportunity WHERE Amount > EUR100.25");
    assert!(q.to_string().ends_with("Amount > EUR100.25"));
}

#[test]
fn date_function_on_the_left() {
    let q = ok("SELECT Id FROM Opportunity WHERE CALENDAR_YEAR(CloseDate) = 2024");
    let Condition::Compare {
        left: Expr::Function { name, args, .. },
        right,
        ..
    } = filter(&q)
    else {
        panic!()
    };
    assert_eq!(
        (name.text.as_str(), args.len(), &right.kind),
        ("CALENDAR_YEAR", 1, &number("2024"))
    );
}

#[test]
fn multi_line_query_with_tabs() {
    let q = ok("SELECT Id,\n\tName\nFROM Account\r\nWHERE Name = 'x'\n\tLIMIT 3\n");
    assert_eq!(items(&q), ["Id", "Name"]);
    assert_eq!(q.limit, Some(3));
}

#[test]
fn keyword_named_objects() {
    assert_eq!(
        ok("SELECT Id, Name FROM Group WHERE Type = 'Queue'")
            .from
            .text,
        "Group"
    );
    let q = ok("SELECT Id FROM Order ORDER BY OrderNumber");
    assert_eq!((q.from.text.as_str(), q.order_by.len()), ("Order", 1));
}

#[test]
fn keyword_as_relationship_start() {
    let q = ok("SELECT Order.Name, Group.Limit FROM OrderItem WHERE Order.Status = 'Draft'");
    assert_eq!(path_of(&q.select[0]), ["Order", "Name"]);
    assert_eq!(path_of(&q.select[1]), ["Group", "Limit"]);
    assert_eq!(compare_of(filter(&q)).0, "Order.Status");
}

#[test]
fn spans_point_at_the_text() {
    let q = ok("SELECT Id,\n  COUNT(Name) c\nFROM Contact\nWHERE  LastName = 'x'");
    assert_eq!((q.span.line, q.span.column), (1, 1));
    let SelectItem::Expr { expr, alias } = &q.select[1] else {
        panic!()
    };
    assert_eq!((expr.span().line, expr.span().column), (2, 3));
    assert_eq!(
        alias.as_ref().map(|a| (a.span.line, a.span.column)),
        Some((2, 15))
    );
    assert_eq!(
        (q.from.span.line, q.from.span.column, q.from.span.offset),
        (3, 6, 32)
    );
    let Condition::Compare { span, right, .. } = filter(&q) else {
        panic!()
    };
    assert_eq!((span.line, span.column, right.span.column), (4, 8, 19));
}

#[test]
fn spans_count_characters_not_bytes() {
    let q = ok("SELECT Id FROM A WHERE a = '华为' AND b = 1");
    let Condition::And(terms) = filter(&q) else {
        panic!()
    };
    let Condition::Compare { span, .. } = &terms[1] else {
        panic!()
    };
    assert_eq!(span.column, 37);
    assert_eq!(span.offset, 40);
}

#[test]
fn subquery_span_is_its_select() {
    let q = ok("SELECT Id, (SELECT Id FROM Contacts) FROM Account");
    let SelectItem::Subquery(sub) = &q.select[1] else {
        panic!()
    };
    assert_eq!(sub.span.column, 13);
}

#[test]
fn nesting_up_to_the_limit_is_fine() {
    let depth = 49;
    let text = format!(
        "SELECT Id FROM A WHERE {}a = 1{}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    assert!(matches!(filter(&ok(&text)), Condition::Compare { .. }));
}

#[test]
fn conformance_literal_coverage() {
    let cases = [
        (
            "CreatedDate = TODAY",
            LiteralKind::DateLiteral {
                name: "TODAY".into(),
                n: None,
            },
        ),
        (
            "CreatedDate > LAST_N_DAYS:30",
            LiteralKind::DateLiteral {
                name: "LAST_N_DAYS".into(),
                n: Some(30),
            },
        ),
        (
            "CreatedDate > 2024-01-01T00:00:00Z",
            LiteralKind::DateTime("2024-01-01T00:00:00Z".into()),
        ),
        (
            "CreatedDate > 2024-01-01T00:00:00+00:00",
            LiteralKind::DateTime("2024-01-01T00:00:00+00:00".into()),
        ),
        (
            "CloseDate = 2024-05-01",
            LiteralKind::Date("2024-05-01".into()),
        ),
        ("IsDeleted = false", LiteralKind::Boolean(false)),
        ("Amount >= 10.5", number("10.5")),
        (r"Name = 'O\'Brien'", string("O'Brien")),
    ];
    for (condition, want) in cases {
        let q = ok(&format!("SELECT Id FROM Account WHERE {condition}"));
        assert_eq!(compare_of(filter(&q)).2, &want, "{condition}");
    }
}

#[test]
fn printing_is_canonical() {
    let text = "select  Id ,name,(select id from contacts where a<>1 and (b=2 or c=3)) from account \
                where name like 'a%' and industry not in ('x','y') order by name asc nulls first limit 5";
    assert_eq!(
        canonical(text),
        "SELECT Id, name, (SELECT id FROM contacts WHERE a != 1 AND (b = 2 OR c = 3)) FROM account \
         WHERE name LIKE 'a%' AND industry NOT IN ('x', 'y') ORDER BY name NULLS FIRST LIMIT 5"
    );
}

#[test]
fn alias_named_like_a_soft_keyword() {
    let q = ok("SELECT COUNT(Id) total, MAX(Amount) scope FROM Opportunity");
    assert_eq!(function_of(&q.select[1]).2, Some("scope"));
}

#[test]
fn display_of_an_error_has_the_position() {
    let error = parse("SELECT Id FORM Account").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unexpected token: 'FORM' at Row:1:Column:11"
    );
}

// ===== negative cases =====

#[test]
fn misspelt_from() {
    err("SELECT Id FORM Account", "unexpected token: 'FORM'", 1, 11);
}

#[test]
fn misspelt_select() {
    err("SELEC Id FROM Account", "unexpected token: 'SELEC'", 1, 1);
}

#[test]
fn missing_object_name() {
    err("SELECT Id FROM", "unexpected end of query", 1, 15);
}

#[test]
fn empty_select_list() {
    err("SELECT FROM Account", "unexpected token: 'FROM'", 1, 8);
}

#[test]
fn empty_text() {
    err("", "unexpected end of query", 1, 1);
    err("   \n  ", "unexpected end of query", 2, 3);
}

#[test]
fn trailing_semicolon() {
    err("SELECT Id FROM Account;", "unexpected token: ';'", 1, 23);
}

#[test]
fn trailing_words() {
    err(
        "SELECT Id FROM Account extra stuff",
        "unexpected token: 'stuff'",
        1,
        30,
    );
}

#[test]
fn trailing_comma_in_select_list() {
    err("SELECT Id, FROM Account", "unexpected token: 'FROM'", 1, 12);
}

#[test]
fn mixing_and_then_or() {
    let e = err(
        "SELECT Id FROM A WHERE a = 1 AND b = 2 OR c = 3",
        "unexpected token: 'OR'",
        1,
        40,
    );
    assert!(e.message.contains("parentheses"));
}

#[test]
fn mixing_or_then_and() {
    err(
        "SELECT Id FROM A WHERE a = 1 OR b = 2 AND c = 3",
        "unexpected token: 'AND'",
        1,
        39,
    );
}

#[test]
fn mixing_inside_parentheses() {
    err(
        "SELECT Id FROM A WHERE x = 0 AND (a = 1 OR b = 2 and c = 3)",
        "unexpected token: 'and'",
        1,
        50,
    );
}

#[test]
fn unclosed_condition_parenthesis() {
    err(
        "SELECT Id FROM A WHERE (a = 1",
        "expecting a right parentheses, found end of query",
        1,
        30,
    );
}

#[test]
fn unclosed_function_call() {
    err(
        "SELECT COUNT(Id FROM A",
        "expecting a right parentheses, found 'FROM'",
        1,
        17,
    );
}

#[test]
fn unclosed_subquery() {
    err(
        "SELECT Id, (SELECT Id FROM Contacts FROM Account",
        "expecting a right parentheses, found 'FROM'",
        1,
        37,
    );
}

#[test]
fn unclosed_semi_join() {
    err(
        "SELECT Id FROM A WHERE Id IN (SELECT Id FROM B",
        "expecting a right parentheses, found end of query",
        1,
        47,
    );
}

#[test]
fn in_without_parentheses() {
    err(
        "SELECT Id FROM A WHERE a IN 'x'",
        "expecting a left parentheses, found ''x''",
        1,
        29,
    );
}

#[test]
fn empty_in_list() {
    err(
        "SELECT Id FROM A WHERE a IN ()",
        "unexpected token: ')'",
        1,
        30,
    );
}

#[test]
fn unknown_escape() {
    err(
        r"SELECT Id FROM A WHERE a = 'x\qy'",
        r"invalid escape sequence '\q'",
        1,
        30,
    );
}

#[test]
fn wildcard_escape_outside_like() {
    err(
        r"SELECT Id FROM A WHERE a = '5\%'",
        r"invalid escape sequence '\%'",
        1,
        30,
    );
}

#[test]
fn short_unicode_escape() {
    err(
        r"SELECT Id FROM A WHERE a = '\u12'",
        "invalid unicode escape",
        1,
        29,
    );
}

#[test]
fn lone_surrogate_escape() {
    err(
        r"SELECT Id FROM A WHERE a = 'x\uD800y'",
        "invalid unicode escape",
        1,
        30,
    );
}

#[test]
fn unterminated_string() {
    err(
        "SELECT Id FROM A WHERE a = 'abc",
        "unterminated string literal",
        1,
        28,
    );
}

#[test]
fn escaped_quote_does_not_terminate() {
    err(
        r"SELECT Id FROM A WHERE a = 'abc\'",
        "unterminated string literal",
        1,
        28,
    );
}

#[test]
fn unknown_n_date_literal() {
    err(
        "SELECT Id FROM A WHERE d = LAST_N_FORTNIGHTS:3",
        "unknown date literal: 'LAST_N_FORTNIGHTS'",
        1,
        28,
    );
}

#[test]
fn unknown_bare_word_value() {
    err(
        "SELECT Id FROM A WHERE d = LAST_FORTNIGHT",
        "unexpected token: 'LAST_FORTNIGHT'",
        1,
        28,
    );
}

#[test]
fn n_date_literal_without_number() {
    err(
        "SELECT Id FROM A WHERE d = LAST_N_DAYS LIMIT 5",
        "expecting a colon, found 'LIMIT'",
        1,
        40,
    );
}

#[test]
fn n_date_literal_with_word() {
    err(
        "SELECT Id FROM A WHERE d = LAST_N_DAYS:abc",
        "expecting an integer, found 'abc'",
        1,
        40,
    );
}

#[test]
fn n_date_literal_with_fraction() {
    err(
        "SELECT Id FROM A WHERE d = NEXT_N_DAYS:1.5",
        "expecting an integer, found '1.5'",
        1,
        40,
    );
}

#[test]
fn plain_date_literal_with_number() {
    err(
        "SELECT Id FROM A WHERE d = TODAY:3",
        "date literal TODAY does not take a number",
        1,
        33,
    );
}

#[test]
fn truncated_datetime() {
    err(
        "SELECT Id FROM A WHERE d > 2024-01-01T10:00",
        "invalid datetime literal",
        1,
        28,
    );
}

#[test]
fn datetime_without_zone() {
    err(
        "SELECT Id FROM A WHERE d > 2024-01-01T10:00:00 LIMIT 1",
        "invalid datetime literal",
        1,
        28,
    );
}

#[test]
fn negative_limit() {
    err(
        "SELECT Id FROM A LIMIT -1",
        "expecting a non-negative integer, found '-1'",
        1,
        24,
    );
}

#[test]
fn fractional_limit() {
    err(
        "SELECT Id FROM A LIMIT 1.5",
        "expecting a non-negative integer, found '1.5'",
        1,
        24,
    );
}

#[test]
fn limit_too_large() {
    err(
        "SELECT Id FROM A LIMIT 18446744073709551616",
        "number too large",
        1,
        24,
    );
}

#[test]
fn offset_not_a_number() {
    err(
        "SELECT Id FROM A LIMIT 1 OFFSET abc",
        "expecting a non-negative integer, found 'abc'",
        1,
        33,
    );
}

#[test]
fn unknown_for_clause() {
    err(
        "SELECT Id FROM A FOR DELETE",
        "expecting VIEW, REFERENCE or UPDATE, found 'DELETE'",
        1,
        22,
    );
}

#[test]
fn unknown_fields_kind() {
    err(
        "SELECT FIELDS(SOME) FROM A",
        "expecting ALL, STANDARD or CUSTOM, found 'SOME'",
        1,
        15,
    );
}

#[test]
fn typeof_without_when() {
    err(
        "SELECT TYPEOF What ELSE Name END FROM Event",
        "expecting WHEN, found 'ELSE'",
        1,
        20,
    );
}

#[test]
fn typeof_without_end() {
    err(
        "SELECT TYPEOF What WHEN Account THEN Name FROM Event",
        "expecting WHEN, ELSE or END, found 'FROM'",
        1,
        43,
    );
}

#[test]
fn order_without_by() {
    err(
        "SELECT Id FROM A ORDER Name",
        "unexpected token: 'Name'",
        1,
        24,
    );
}

#[test]
fn group_without_by() {
    err("SELECT Id FROM A GROUP Id", "unexpected token: 'Id'", 1, 24);
}

#[test]
fn nulls_without_first_or_last() {
    err(
        "SELECT Id FROM A ORDER BY Name NULLS",
        "unexpected end of query",
        1,
        37,
    );
}

#[test]
fn using_without_scope() {
    err(
        "SELECT Id FROM A USING mine",
        "unexpected token: 'mine'",
        1,
        24,
    );
}

#[test]
fn missing_operator() {
    err(
        "SELECT Id FROM A WHERE Name 'x'",
        "unexpected token: ''x''",
        1,
        29,
    );
}

#[test]
fn missing_value() {
    err(
        "SELECT Id FROM A WHERE Name =",
        "unexpected end of query",
        1,
        30,
    );
}

#[test]
fn not_before_operator() {
    err(
        "SELECT Id FROM A WHERE Name NOT = 'x'",
        "expecting LIKE or IN, found '='",
        1,
        33,
    );
}

#[test]
fn not_includes_is_not_syntax() {
    err(
        "SELECT Id FROM A WHERE M NOT INCLUDES ('a')",
        "expecting LIKE or IN, found 'INCLUDES'",
        1,
        30,
    );
}

#[test]
fn like_needs_a_string() {
    err(
        "SELECT Id FROM A WHERE Name LIKE 5",
        "expecting a string pattern, found '5'",
        1,
        34,
    );
}

#[test]
fn lower_case_currency_is_not_a_value() {
    err(
        "SELECT Id FROM A WHERE Amount > usd5000",
        "unexpected token: 'usd5000'",
        1,
        33,
    );
}

#[test]
fn with_without_name() {
    err("SELECT Id FROM A WITH", "unexpected end of query", 1, 22);
}

#[test]
fn unknown_character() {
    err(
        "SELECT Id FROM A WHERE Name = @x",
        "unexpected token: '@'",
        1,
        31,
    );
}

#[test]
fn non_ascii_outside_strings() {
    err("SELECT Id FROM 华为", "unexpected token: '华'", 1, 16);
}

#[test]
fn clauses_out_of_order() {
    err(
        "SELECT Id FROM A LIMIT 5 WHERE a = 1",
        "unexpected token: 'WHERE'",
        1,
        26,
    );
}

#[test]
fn truncated_rollup() {
    err(
        "SELECT a FROM A GROUP BY ROLLUP(",
        "unexpected end of query",
        1,
        33,
    );
}

#[test]
fn multi_line_error_reports_the_row() {
    err(
        "SELECT Id,\n  Name\nFORM Account",
        "unexpected token: 'FORM'",
        3,
        1,
    );
    err(
        "SELECT Id\r\nFROM Account\r\nWHERE Name = 'a' OR\r\n  b = 1 AND c = 2",
        "unexpected token: 'AND'",
        4,
        9,
    );
}

#[test]
fn columns_count_characters() {
    err(
        "SELECT Id FROM Account WHERE Name = '华为' FORM",
        "unexpected token: 'FORM'",
        1,
        42,
    );
}

#[test]
fn first_error_wins_over_later_lexical_error() {
    err(
        "SELECT Id FORM Account WHERE Name = 'abc",
        "unexpected token: 'FORM'",
        1,
        11,
    );
}

#[test]
fn nesting_too_deep_in_conditions() {
    let text = format!(
        "SELECT Id FROM A WHERE {}a = 1{}",
        "(".repeat(60),
        ")".repeat(60)
    );
    err(&text, "nested too deeply", 1, 74);
}

#[test]
fn nesting_too_deep_in_subqueries_and_functions() {
    let mut text = String::from("SELECT Id FROM A");
    for _ in 0..60 {
        text = format!("SELECT Id FROM A WHERE Id IN ({text})");
    }
    assert!(
        parse(&text)
            .unwrap_err()
            .message
            .contains("nested too deeply")
    );
    let calls = format!("SELECT {}x{} FROM A", "f(".repeat(100), ")".repeat(100));
    assert!(
        parse(&calls)
            .unwrap_err()
            .message
            .contains("nested too deeply")
    );
    let huge = format!("SELECT Id FROM A WHERE {}", "(".repeat(100_000));
    assert!(
        parse(&huge)
            .unwrap_err()
            .message
            .contains("nested too deeply")
    );
}

#[test]
fn reserved_word_as_field() {
    err(
        "SELECT Id FROM A WHERE Limit = 5",
        "unexpected token: 'Limit'",
        1,
        24,
    );
}

// ===== randomized tests =====

/// A deterministic xorshift64 generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const VALID_QUERIES: &[&str] = &[
    "SELECT Id FROM Account",
    "SELECT Id, Name, Account.Owner.Name FROM Contact WHERE LastName = 'Doe' ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 5",
    "SELECT COUNT() FROM Account WHERE CreatedDate = LAST_N_DAYS:30",
    "SELECT AccountId, COUNT(Id) cnt FROM Contact GROUP BY ROLLUP(AccountId) HAVING COUNT(Id) > 1",
    "SELECT Id, (SELECT Id, LastName FROM Contacts WHERE Email != null) FROM Account WHERE Name LIKE '华为%'",
    "SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact) AND (Industry = 'x' OR Rating IN ('Hot', 'Warm'))",
    "SELECT TYPEOF What WHEN Account THEN Phone ELSE Name END FROM Event",
    "SELECT FIELDS(ALL) FROM Account LIMIT 200",
    r"SELECT Id FROM Account WHERE Name = 'O\'Brien\n\u00e9' AND Name LIKE '100\%\_\\%' FOR VIEW",
    "SELECT CALENDAR_YEAR(convertTimezone(CreatedDate)) yr FROM Opportunity WHERE Amount > USD5000 AND CloseDate >= 2024-01-01",
    "SELECT Id FROM Contact c USING SCOPE mine WHERE NOT (c.Name = 'a' AND c.Phone != null) WITH SECURITY_ENFORCED",
    "SELECT Id FROM Opportunity WHERE CreatedDate > 2024-01-01T00:00:00.000+08:00 AND Amount < -3.5e2 AND X__c INCLUDES ('a;b')",
    "select id from lead where isconverted = false and createddate = this_fiscal_year group by cube(a, b) for update",
];

const SOUP: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "IN",
    "INCLUDES",
    "EXCLUDES",
    "GROUP",
    "BY",
    "ROLLUP",
    "CUBE",
    "HAVING",
    "ORDER",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "FOR",
    "VIEW",
    "UPDATE",
    "USING",
    "SCOPE",
    "WITH",
    "TYPEOF",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "FIELDS",
    "ALL",
    "TRUE",
    "false",
    "null",
    "Id",
    "Name",
    "Account",
    "Account.Name",
    "a.b.c",
    "COUNT",
    "COUNT()",
    "SUM",
    "toLabel",
    "x",
    "_",
    "Foo__c",
    "(",
    ")",
    "((",
    "))",
    ",",
    ".",
    ":",
    ";",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "-",
    "+",
    "*",
    "@",
    "'",
    "''",
    "'abc'",
    "'a\\'b'",
    "\\",
    "\\\\",
    "\\u",
    "\\u00",
    "\\uD800",
    "'\\u12'",
    "'\\q'",
    "'\\_'",
    "%",
    "华为",
    "😀",
    "é",
    "\u{0}",
    "\u{200b}",
    "\n",
    "\r\n",
    "\t",
    " ",
    "  ",
    "0",
    "7",
    "42",
    "-3.5",
    "+2",
    ".5",
    "1e3",
    "1e",
    "18446744073709551616",
    "2024-01-01",
    "2024-01-01T",
    "2024-01-01T10:00:00Z",
    "2024-01-01T10:00:00+0800",
    "2024-13-45T99:99:99-99:99",
    "TODAY",
    "LAST_N_DAYS",
    "LAST_N_DAYS:3",
    "N_DAYS_AGO:",
    "LAST_N_FORTNIGHTS:2",
    "USD5000",
    "CNY1.5",
    "EUR",
    "9999-",
];

/// A random prefix of a random valid query (cut on a character boundary).
fn truncated_query(rng: &mut Rng) -> String {
    let query = rng.pick(VALID_QUERIES);
    let count = query.chars().count();
    query.chars().take(rng.below(count + 1)).collect()
}

fn soup_string(rng: &mut Rng) -> String {
    let mut text = String::new();
    let pieces = 1 + rng.below(30);
    for _ in 0..pieces {
        if rng.chance(5) {
            text.push_str(&truncated_query(rng));
        } else {
            text.push_str(rng.pick(SOUP));
        }
        if rng.chance(70) {
            text.push(' ');
        }
    }
    if rng.chance(20) {
        text = format!("{} {text}", truncated_query(rng));
    }
    text
}

/// Parses `text` under `catch_unwind`; panics (failing the test) if parsing or printing
/// panicked, and checks the round trip of every success. Returns whether it parsed.
fn check_no_panic_and_round_trip(text: &str) -> bool {
    let outcome = std::panic::catch_unwind(|| parse(text).map(|q| (q.to_string(), q)));
    let result = outcome.unwrap_or_else(|_| panic!("parse panicked on {text:?}"));
    let Ok((printed, query)) = result else {
        return false;
    };
    let reparsed = std::panic::catch_unwind(|| parse(&printed))
        .unwrap_or_else(|_| panic!("reparse panicked on {printed:?}"));
    assert_eq!(
        reparsed.as_ref(),
        Ok(&query),
        "round trip of {text:?} printed as {printed:?}"
    );
    true
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let text = soup_string(&mut rng);
        if check_no_panic_and_round_trip(&text) {
            parsed += 1;
        }
    }
    assert!(parsed > 0, "some random strings should parse");
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let inserts = [
        '(', ')', '\'', '\\', ',', '.', ' ', ':', '-', 'x', '9', '华', 'T', 'Z', '=', '%', '_',
    ];
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => chars.insert(at, rng.pick(&inserts)),
            2 if chars.len() > 1 => {
                let other = rng.below(chars.len());
                let at = at.min(chars.len() - 1);
                chars.swap(at, other);
            }
            _ => {
                let from = rng.below(chars.len());
                if let Some(&ch) = chars.get(from) {
                    chars.insert(at, ch);
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn valid_queries_parse_and_round_trip() {
    for text in VALID_QUERIES {
        ok(text);
    }
}

#[test]
fn random_mutations_of_valid_queries_never_panic() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let original = rng.pick(VALID_QUERIES);
        let text = mutate(&mut rng, original);
        if check_no_panic_and_round_trip(&text) {
            parsed += 1;
        }
    }
    assert!(
        parsed > 1_000,
        "many mutations should still parse, got {parsed}"
    );
}

// ----- a generator of random valid queries, for the round trip -----

fn random_ident(rng: &mut Rng) -> String {
    let names = [
        "Id",
        "Name",
        "Amount",
        "Foo__c",
        "x",
        "Order",
        "Type",
        "Everything",
        "USD5",
        "last_n_days",
        "Fields",
    ];
    (rng.pick(&names)).to_string()
}

fn random_path(rng: &mut Rng) -> String {
    let parts: Vec<String> = (0..1 + rng.below(3)).map(|_| random_ident(rng)).collect();
    let path = parts.join(".");
    if parts.len() == 1 && path == "Order" {
        "Order.Id".to_string()
    } else {
        path
    }
}

fn random_expr(rng: &mut Rng, depth: usize) -> String {
    if depth < 3 && rng.chance(25) {
        let name = rng.pick(&[
            "COUNT",
            "max",
            "toLabel",
            "CALENDAR_YEAR",
            "convertTimezone",
        ]);
        let args: Vec<String> = (0..rng.below(3))
            .map(|_| random_expr(rng, depth + 1))
            .collect();
        return format!("{name}({})", args.join(", "));
    }
    random_path(rng)
}

fn random_string_literal(rng: &mut Rng) -> String {
    let pieces = [
        "a",
        "华为",
        "😀",
        r"\'",
        r"\\",
        r"\n",
        r"\t",
        r"\b",
        r"\f",
        r#"\""#,
        r"\u00e9",
        r"\uD83D\uDE00",
        "%",
        "_",
        " ",
        "\"",
        ";",
    ];
    let body: String = (0..rng.below(6)).map(|_| rng.pick(&pieces)).collect();
    format!("'{body}'")
}

fn random_literal(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => random_string_literal(rng),
        1 => (rng.pick(&["10", "-3.5", "+2", ".5", "1e3", "0"])).to_string(),
        2 => (rng.pick(&["TRUE", "false", "NULL"])).to_string(),
        3 => (rng.pick(&[
            "2024-01-31",
            "2024-01-31T10:00:00Z",
            "2024-01-31T10:00:00.5-08:00",
        ]))
        .to_string(),
        4 => (rng.pick(&[
            "TODAY",
            "this_fiscal_year",
            "LAST_N_DAYS:7",
            "n_years_ago:2",
        ]))
        .to_string(),
        5 => (rng.pick(&["USD5000", "CNY1.5"])).to_string(),
        _ => random_string_literal(rng),
    }
}

fn random_literal_list(rng: &mut Rng) -> String {
    let values: Vec<String> = (0..1 + rng.below(3)).map(|_| random_literal(rng)).collect();
    format!("({})", values.join(", "))
}

fn random_simple_condition(rng: &mut Rng, depth: usize) -> String {
    let left = random_expr(rng, depth);
    match rng.below(6) {
        0 => format!(
            "{left} {} {}",
            rng.pick(&["=", "!=", "<>", "<", "<=", ">", ">="]),
            random_literal(rng)
        ),
        1 => {
            let pattern = rng.pick(&[r"'a\_b%'", r"'\\'", r"'100\%'", "'华为%'", r"'\u005C_'"]);
            format!(
                "{left} {}LIKE {pattern}",
                if rng.chance(50) { "NOT " } else { "" }
            )
        }
        2 => format!(
            "{left} {}IN {}",
            if rng.chance(50) { "NOT " } else { "" },
            random_literal_list(rng)
        ),
        3 if depth < 3 => format!("{left} IN ({})", random_query(rng, depth + 1)),
        4 => format!(
            "{left} {} {}",
            rng.pick(&["INCLUDES", "EXCLUDES"]),
            random_literal_list(rng)
        ),
        _ => format!("{left} = {}", random_literal(rng)),
    }
}

fn random_condition(rng: &mut Rng, depth: usize) -> String {
    let term = |rng: &mut Rng| {
        let inner = if depth < 4 && rng.chance(25) {
            format!("({})", random_condition(rng, depth + 1))
        } else {
            random_simple_condition(rng, depth)
        };
        if rng.chance(20) {
            format!("NOT {inner}")
        } else {
            inner
        }
    };
    let joiner = if rng.chance(50) { " AND " } else { " OR " };
    let terms: Vec<String> = (0..1 + rng.below(3)).map(|_| term(rng)).collect();
    terms.join(joiner)
}

fn random_select_item(rng: &mut Rng, depth: usize) -> String {
    match rng.below(8) {
        0 if depth < 2 => format!("({})", random_query(rng, depth + 1)),
        1 => "TYPEOF What WHEN Account THEN Name, Phone ELSE Id END".to_string(),
        2 => format!("FIELDS({})", rng.pick(&["ALL", "standard", "Custom"])),
        3 => format!("{} alias{}", random_expr(rng, depth), rng.below(9)),
        _ => random_expr(rng, depth),
    }
}

/// Writes one optional clause of a random query.
type ClauseMaker<'a> = dyn Fn(&mut Rng) -> String + 'a;

fn random_query(rng: &mut Rng, depth: usize) -> String {
    let items: Vec<String> = (0..1 + rng.below(3))
        .map(|_| random_select_item(rng, depth))
        .collect();
    let mut text = format!(
        "SELECT {} FROM {}",
        items.join(", "),
        rng.pick(&["Account", "Group", "Contact"])
    );
    let clauses: [(u64, &ClauseMaker<'_>); 10] = [
        (20, &|_| " c".to_string()),
        (10, &|_| " USING SCOPE mine".to_string()),
        (60, &|rng| {
            format!(" WHERE {}", random_condition(rng, depth))
        }),
        (10, &|_| " WITH SECURITY_ENFORCED".to_string()),
        (20, &|rng| {
            format!(
                " GROUP BY {}",
                rng.pick(&["Name", "ROLLUP(Name, Id)", "CUBE(x)", "CALENDAR_YEAR(d), x"])
            )
        }),
        (20, &|rng| {
            format!(" HAVING {}", random_condition(rng, depth))
        }),
        (30, &|rng| {
            format!(
                " ORDER BY {} DESC NULLS LAST, {} ASC",
                random_expr(rng, depth),
                random_expr(rng, depth)
            )
        }),
        (30, &|rng| format!(" LIMIT {}", rng.below(1000))),
        (20, &|rng| format!(" OFFSET {}", rng.below(1000))),
        (10, &|rng| {
            format!(" FOR {}", rng.pick(&["VIEW", "REFERENCE", "UPDATE"]))
        }),
    ];
    for (percent, clause) in clauses {
        if rng.chance(percent) {
            text.push_str(&clause(rng));
        }
    }
    text
}

/// Random valid queries from the grammar: every one must parse and round-trip.
#[test]
fn random_grammar_queries_round_trip() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let mut parsed = 0;
    for _ in 0..5_000 {
        let text = random_query(&mut rng, 0);
        if check_no_panic_and_round_trip(&text) {
            parsed += 1;
        }
    }
    assert_eq!(parsed, 5_000, "every generated query should parse");
}

/// The deepest query allowed, written as the costliest kind of nesting (semi-joins), whose
/// text is `levels` subqueries deep.
fn nested_semi_joins(levels: usize) -> String {
    let mut text = String::from("SELECT Id FROM A WHERE x = 1");
    for _ in 0..levels {
        text = format!("SELECT Id FROM A WHERE Id IN ({text})");
    }
    text
}

/// Parsing and printing the deepest query allowed fits in 1 MiB of stack in a debug build
/// (about 256 KiB in release), well within a 2 MiB worker thread.
#[test]
fn deepest_allowed_query_fits_in_a_small_stack() {
    let stack_kb = std::env::var("SOQL_STACK_KB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let worker = std::thread::Builder::new()
        .stack_size(stack_kb * 1024)
        .spawn(|| {
            let deepest = parse(&nested_semi_joins(50)).map(|q| (q.to_string(), q));
            let too_deep = parse(&nested_semi_joins(51));
            (deepest, too_deep)
        });
    let (deepest, too_deep) = worker.unwrap().join().unwrap();
    let (printed, query) = deepest.unwrap();
    assert_eq!(parse(&printed).unwrap(), query);
    assert!(too_deep.unwrap_err().message.contains("nested too deeply"));
}

#[test]
fn random_mutations_of_valid_searches_never_panic() {
    const SEARCHES: &[&str] = &[
        "FIND {acme} RETURNING Account(Id, Name WHERE Industry = 'Energy' ORDER BY Name LIMIT 5), Contact LIMIT 20",
        "FIND {\"big co\" OR glob* AND NOT (x1 OR 华为)} IN NAME FIELDS RETURNING Lead(Company)",
        "FIND {john\\-smith \\}x} IN EMAIL FIELDS",
        "FIND {(a1 OR b1) c1*} RETURNING Opportunity(Name, Account.Name OFFSET 3)",
    ];
    let mut rng = Rng(0x0BAD_5EED_0BAD_5EED);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let original = rng.pick(SEARCHES);
        let text = mutate(&mut rng, original);
        if crate::parse_search(&text).is_ok() {
            parsed += 1;
        }
    }
    assert!(
        parsed > 500,
        "many mutations should still parse, got {parsed}"
    );
}

#[test]
fn quoted_strings_read_back_as_written() {
    let text = "O'Brien \\ 华为\nline";
    let quoted = crate::quote_string(text);
    assert_eq!(quoted, "'O\\'Brien \\\\ 华为\\nline'");
    let query = crate::parse(&format!("SELECT Id FROM Account WHERE Name = {quoted}"))
        .expect("a quoted string parses");
    assert!(query.to_string().contains(&quoted), "{query}");
}
