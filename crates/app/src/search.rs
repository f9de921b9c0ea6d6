//! SOSL and global search: the term becomes index tokens (`store::search`), and each object
//! searched is a SOQL query whose plan is joined to that object's full-text index, so
//! RETURNING's fields, WHERE, ORDER BY and LIMIT mean what they mean in SOQL, through the same
//! one read path.

use std::sync::Arc;

use model::{ErrorCode, ObjectDef, Value};
use soql::{Expr, Ident, Path, SearchScope, SearchTerm, SelectItem};
use store::query::{Column, Compare, Cond, QueryPlan};
use store::search::{Match, Scope, Search};

use crate::query::{MAX_PAGE, QueryOptions, Row};
use crate::{App, AppError, Caller, Result};

fn malformed(message: impl Into<String>) -> AppError {
    AppError::one(ErrorCode::MalformedSearch, message)
}

/// The term as index tokens. Words that hold no letters or digits (`-`, `&`) match
/// nothing and are dropped, as punctuation is not indexed; a term left with nothing is an
/// error.
fn to_match(term: &SearchTerm) -> Option<Match> {
    match term {
        SearchTerm::Word { text, wildcard } => {
            let (tokens, prefix) = store::search::query_tokens(text, *wildcard);
            (!tokens.is_empty()).then_some(Match::Phrase { tokens, prefix })
        }
        SearchTerm::Phrase(text) => {
            let (tokens, prefix) = store::search::query_tokens(text, false);
            (!tokens.is_empty()).then_some(Match::Phrase { tokens, prefix })
        }
        SearchTerm::And(items) => {
            let mut kept: Vec<Match> = items.iter().filter_map(to_match).collect();
            match kept.len() {
                0 => None,
                1 => kept.pop(),
                _ => Some(Match::And(kept)),
            }
        }
        SearchTerm::Or(items) => {
            let mut kept: Vec<Match> = items.iter().filter_map(to_match).collect();
            match kept.len() {
                0 => None,
                1 => kept.pop(),
                _ => Some(Match::Or(kept)),
            }
        }
        SearchTerm::AndNot(left, right) => {
            let left = to_match(left)?;
            Some(match to_match(right) {
                Some(right) => Match::AndNot(Box::new(left), Box::new(right)),
                None => left,
            })
        }
    }
}

fn scope(scope: SearchScope) -> Scope {
    match scope {
        SearchScope::All | SearchScope::Sidebar => Scope::All,
        SearchScope::Name => Scope::Name,
        SearchScope::Email => Scope::Email,
        SearchScope::Phone => Scope::Phone,
    }
}

/// `Id`, for an object searched without a field list.
fn id_only(span: soql::Span) -> Vec<SelectItem> {
    vec![SelectItem::Expr {
        expr: Expr::Field(Path {
            parts: vec![Ident {
                text: "Id".into(),
                span,
            }],
            span,
        }),
        alias: None,
    }]
}

impl App {
    /// Runs a SOSL search: the records found, object by object in RETURNING order (every
    /// searchable object when there is no RETURNING), best matches first within each unless
    /// an ORDER BY says otherwise. At most LIMIT (and never more than 2,000) records in all.
    pub async fn search(&self, caller: &Caller, text: &str) -> Result<Vec<Row>> {
        let parsed = soql::parse_search(text).map_err(|e| malformed(e.to_string()))?;
        let matches = to_match(&parsed.term).ok_or_else(|| {
            malformed("search term must contain a letter or a digit to search for")
        })?;
        let search = Search {
            matches,
            scope: scope(parsed.scope),
        };
        let schema = self.schema().await?;
        let access = self.access(caller).await?;
        let items: Vec<(Arc<ObjectDef>, soql::Query)> = if parsed.returning.is_empty() {
            let span = soql::Span::default();
            schema
                .objects
                .iter()
                .filter(|o| o.searchable() && access.object(o).read)
                .map(|o| {
                    let query = soql::Query::from(Ident {
                        text: o.name.clone(),
                        span,
                    });
                    (o.clone(), query)
                })
                .collect()
        } else {
            let mut items = Vec::new();
            for query in parsed.returning {
                let object = crate::query::object_named(&schema, &query.from.text)?;
                if !object.searchable() {
                    return Err(AppError::one(
                        ErrorCode::InvalidType,
                        format!("entity type {} does not support search", object.name),
                    ));
                }
                items.push((object, query));
            }
            items
        };
        let mut left = parsed
            .limit
            .map_or(MAX_PAGE as u64, |l| l.min(MAX_PAGE as u64));
        let mut records = Vec::new();
        for (object, mut query) in items {
            if left == 0 {
                break;
            }
            if crate::query::is_aggregate(&query) {
                return Err(malformed(format!(
                    "aggregate functions and GROUP BY are not allowed in RETURNING {}",
                    object.name
                )));
            }
            if query.select.is_empty() {
                query.select = id_only(query.span);
            }
            let wanted = query.limit.map_or(left, |l| l.min(left));
            // Where the caller may not see some indexed fields, the index can only propose:
            // search wider (no exclusions, more rows), then keep what the visible fields match.
            let rechecked = self.hides_indexed_fields(caller, &object).await?;
            let searched = if rechecked {
                query.limit = Some(MAX_PAGE as u64);
                Search {
                    matches: search.matches.without_negations(),
                    scope: search.scope,
                }
            } else {
                query.limit = Some(wanted);
                search.clone()
            };
            let options = QueryOptions {
                page_size: MAX_PAGE,
                ..Default::default()
            };
            let refine = |plan: &mut QueryPlan| {
                plan.search = Some(searched.clone());
                hide_converted(&object, plan);
            };
            let page = self
                .query_records(caller, &schema, &object, &query, options, refine)
                .await
                .map_err(as_search_error)?;
            let mut rows = if rechecked {
                self.without_hidden_matches(caller, &object, &search, page.rows)
                    .await?
            } else {
                page.rows
            };
            rows.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
            left = left.saturating_sub(rows.len() as u64);
            records.extend(rows);
        }
        Ok(records)
    }
}

impl App {
    /// The index holds every text field, including those a profile hides: a record found
    /// only through a hidden field must not be returned (that would tell the caller what the
    /// field holds). Where the caller has hidden indexed fields on the object, each record
    /// found is checked again against the fields they may see.
    /// Whether some field the index holds for `object` is hidden from the caller.
    async fn hides_indexed_fields(&self, caller: &Caller, object: &ObjectDef) -> Result<bool> {
        let rules = self.access(caller).await?.fields.clone();
        Ok(object
            .fields
            .iter()
            .any(|f| store::search::bucket(f).is_some() && rules.hidden(&object.name, &f.name)))
    }

    async fn without_hidden_matches(
        &self,
        caller: &Caller,
        object: &Arc<ObjectDef>,
        search: &Search,
        rows: Vec<Row>,
    ) -> Result<Vec<Row>> {
        let rules = self.access(caller).await?.fields.clone();
        let indexed: Vec<&model::FieldDef> = object
            .fields
            .iter()
            .filter(|f| store::search::bucket(f).is_some())
            .collect();
        if rows.is_empty() || !indexed.iter().any(|f| rules.hidden(&object.name, &f.name)) {
            return Ok(rows);
        }
        let visible: Vec<&model::FieldDef> = indexed
            .into_iter()
            .filter(|f| !rules.hidden(&object.name, &f.name))
            .collect();
        let Some(id) = object.field("Id").cloned() else {
            return Ok(rows);
        };
        let mut columns = vec![Column {
            source: 0,
            field: id.clone(),
        }];
        columns.extend(visible.iter().map(|f| Column {
            source: 0,
            field: (*f).clone(),
        }));
        let ids: Vec<Value> = rows
            .iter()
            .filter_map(|r| r.id.clone())
            .map(Value::Id)
            .collect();
        let plan = QueryPlan {
            sources: vec![store::query::Source {
                object: object.clone(),
                parent_of: None,
                visible: None,
            }],
            columns: columns.clone(),
            filter: Some(Cond::In {
                column: columns[0].clone(),
                values: ids,
            }),
            order: Vec::new(),
            limit: None,
            offset: None,
            deleted: store::plan::Deleted::Include,
            alias_base: 0,
            search: None,
            shared: None,
        };
        let mut keep = std::collections::HashSet::new();
        for values in self.store().query_rows(&plan).await? {
            let Some(Value::Id(record)) = values.first().cloned() else {
                continue;
            };
            let texts: Vec<(store::search::Bucket, &str)> = visible
                .iter()
                .zip(values.iter().skip(1))
                .filter_map(|(f, v)| Some((store::search::bucket(f)?, v.as_text()?)))
                .collect();
            if search.matches(&store::search::document_buckets(&texts)) {
                keep.insert(record);
            }
        }
        Ok(rows
            .into_iter()
            .filter(|r| r.id.as_ref().is_some_and(|id| keep.contains(id)))
            .collect())
    }
}

/// Converted leads are kept for reporting but are not found by search, as in Salesforce.
fn hide_converted(object: &ObjectDef, plan: &mut QueryPlan) {
    let Some(field) = object.field("IsConverted") else {
        return;
    };
    let unconverted = Cond::Compare {
        column: Column {
            source: 0,
            field: field.clone(),
        },
        op: Compare::Eq,
        value: Value::Bool(false),
    };
    plan.filter = Some(match plan.filter.take() {
        Some(filter) => Cond::And(vec![unconverted, filter]),
        None => unconverted,
    });
}

/// A RETURNING clause is SOQL inside SOSL: its syntax errors are the search's.
fn as_search_error(error: AppError) -> AppError {
    match error {
        AppError::Rejected(mut errors) => {
            for e in &mut errors {
                if e.code == ErrorCode::MalformedQuery {
                    e.code = ErrorCode::MalformedSearch;
                }
            }
            AppError::Rejected(errors)
        }
        other => other,
    }
}
