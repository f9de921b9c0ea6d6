//! The full-text index behind SOSL and global search: one index table per searchable object
//! (`<table>__search`), written in the same transaction as the record, so a search never sees
//! a record the table does not hold or misses one it does.
//!
//! Both backends index the same tokens, made here rather than by the database, so that they
//! find the same records: words of letters and digits, lower-cased; and, for Chinese, Japanese
//! and Korean text (written without spaces), every pair of neighbouring characters plus the
//! last character of the run, so `华为` is found in `华为技术有限公司` and `为` at its end. A
//! search term is tokenized the same way and its tokens must follow each other (a phrase).
//!
//! SQLite keeps the tokens in an FTS5 table, one column per bucket (name, email, phone, other),
//! whose rowid is the record number; PostgreSQL in a `tsvector` whose weights mark the
//! buckets (A name, B email, C phone, D other), under a GIN index.

use model::{FieldDef, FieldType, ObjectDef, RecordId, Value};

use crate::Result;
use crate::backend::Tx;
use crate::sql::{Col, Dialect, Param, Sql};

/// Most tokens indexed per record (PostgreSQL positions stop at 16,383); text past them is
/// not searchable.
const MAX_TOKENS: usize = 16_000;
/// Longest token kept; longer runs of letters are cut (nobody searches for them whole).
const MAX_TOKEN_CHARS: usize = 64;
/// PostgreSQL keeps at most 256 positions per lexeme.
const MAX_POSITIONS: usize = 255;
/// The most matches a search looks at per object, highest record numbers first (roughly the
/// newest: each process takes numbers in blocks): the ranking, the caller's sharing and
/// RETURNING's WHERE then apply to these. As in Salesforce ("the search
/// engine looks for matches across a maximum of 2,000 records"; a term that matches more may
/// crowd out what a user is looking for, and they refine the term), this keeps a search for
/// a common word (`华为` in 83,000 of 1,000,000 accounts) as fast as a rare one: ranking every
/// match took ~170 ms. It is also the most records SOSL returns.
pub const SEARCHED_MATCHES: usize = 2_000;
/// Records indexed per statement.
const DOCS_PER_STATEMENT: usize = 2_000;

/// Where a field's words go: searches may be limited to names, emails or phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Name,
    Email,
    Phone,
    Other,
}

const BUCKETS: [Bucket; 4] = [Bucket::Name, Bucket::Email, Bucket::Phone, Bucket::Other];

impl Bucket {
    fn column(self) -> &'static str {
        match self {
            Bucket::Name => "name",
            Bucket::Email => "email",
            Bucket::Phone => "phone",
            Bucket::Other => "other",
        }
    }

    fn weight(self) -> char {
        match self {
            Bucket::Name => 'A',
            Bucket::Email => 'B',
            Bucket::Phone => 'C',
            Bucket::Other => 'D',
        }
    }
}

/// Which fields a search looks in (`IN NAME FIELDS` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Name,
    Email,
    Phone,
}

impl Scope {
    fn bucket(self) -> Option<Bucket> {
        match self {
            Scope::All => None,
            Scope::Name => Some(Bucket::Name),
            Scope::Email => Some(Bucket::Email),
            Scope::Phone => Some(Bucket::Phone),
        }
    }
}

/// The bucket a field is indexed in, if it is indexed: text of every kind except picklists
/// (whose values are codes, not words people search for).
pub fn bucket(field: &FieldDef) -> Option<Bucket> {
    if field.name_field {
        return Some(Bucket::Name);
    }
    match field.field_type {
        FieldType::Email => Some(Bucket::Email),
        FieldType::Phone => Some(Bucket::Phone),
        FieldType::Text
        | FieldType::TextArea
        | FieldType::LongTextArea
        | FieldType::Url
        | FieldType::AutoNumber => Some(Bucket::Other),
        _ => None,
    }
}

/// The index table of an object.
pub fn table(object: &ObjectDef) -> String {
    format!("{}__search", object.table)
}

// ----- tokens -----

/// Characters of scripts written without spaces between words.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF        // Hiragana, Katakana
        | 0x3400..=0x4DBF      // CJK Extension A
        | 0x4E00..=0x9FFF      // CJK Unified Ideographs
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0xF900..=0xFAFF      // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // CJK Extensions B–F, Compatibility Supplement
}

/// A run of characters of one kind, as it is split from the text.
enum Run {
    Word(String),
    Cjk(Vec<char>),
}

fn runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                runs.push(Run::Word(std::mem::take(&mut word)));
            }
            cjk.push(c);
        } else if c.is_alphanumeric() {
            if !cjk.is_empty() {
                runs.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
            if word.chars().count() < MAX_TOKEN_CHARS {
                word.extend(c.to_lowercase());
            }
        } else {
            if !word.is_empty() {
                runs.push(Run::Word(std::mem::take(&mut word)));
            }
            if !cjk.is_empty() {
                runs.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
        }
    }
    if !word.is_empty() {
        runs.push(Run::Word(word));
    }
    if !cjk.is_empty() {
        runs.push(Run::Cjk(cjk));
    }
    runs
}

/// The neighbouring pairs of a run, then (when `last` is set) its last character.
fn cjk_tokens(chars: &[char], last: bool, out: &mut Vec<String>) {
    for pair in chars.windows(2) {
        out.push(pair.iter().flat_map(|c| c.to_lowercase()).collect());
    }
    if last && let Some(c) = chars.last() {
        out.push(c.to_lowercase().collect());
    }
}

/// The tokens a field value is indexed under. Phone numbers also index their digits run
/// together, so `4155551212` finds `(415) 555-1212`.
pub fn document_tokens(text: &str, bucket: Bucket, out: &mut Vec<String>) {
    for run in runs(text) {
        match run {
            Run::Word(word) => out.push(word),
            Run::Cjk(chars) => cjk_tokens(&chars, true, out),
        }
    }
    if bucket == Bucket::Phone {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if digits.len() > 1 && out.last().is_none_or(|t| *t != digits) {
            out.push(digits);
        }
    }
}

/// The tokens of one search word, which must follow each other in a field, and whether the
/// last is only a prefix (the word ended in `*`, or in a single CJK character that may begin
/// a longer run). A run of CJK characters that ends the word leaves out its last-character
/// token: the text may go on after it.
pub fn query_tokens(word: &str, wildcard: bool) -> (Vec<String>, bool) {
    let runs = runs(word);
    let mut tokens = Vec::new();
    let mut prefix = wildcard;
    let count = runs.len();
    for (i, run) in runs.into_iter().enumerate() {
        let final_run = i + 1 == count;
        match run {
            Run::Word(word) => tokens.push(word),
            Run::Cjk(chars) if final_run && chars.len() == 1 => {
                tokens.push(chars.iter().flat_map(|c| c.to_lowercase()).collect());
                prefix = true;
            }
            Run::Cjk(chars) => cjk_tokens(&chars, !final_run, &mut tokens),
        }
    }
    (tokens, prefix)
}

// ----- search expressions -----

/// A search, with its words already made into tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    /// Tokens that follow each other; the last may be a prefix.
    Phrase {
        tokens: Vec<String>,
        prefix: bool,
    },
    And(Vec<Match>),
    Or(Vec<Match>),
    /// Records matching the first and not the second.
    AndNot(Box<Match>, Box<Match>),
}

/// What a query searches for and where: joined to the plan's root table.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub matches: Match,
    pub scope: Scope,
}

fn quote_fts5(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

fn quote_tsquery(token: &str) -> String {
    format!("'{}'", token.replace('\\', "\\\\").replace('\'', "''"))
}

impl Match {
    /// The same search without its `AND NOT` parts: it finds every record the search finds,
    /// and more. A caller who may not see some indexed fields is searched this way, then
    /// checked against the fields they see (a record must not vanish because a hidden field
    /// holds the excluded word: that would tell them what it holds).
    pub fn without_negations(&self) -> Match {
        match self {
            Match::Phrase { .. } => self.clone(),
            Match::And(items) => Match::And(items.iter().map(Match::without_negations).collect()),
            Match::Or(items) => Match::Or(items.iter().map(Match::without_negations).collect()),
            Match::AndNot(left, _) => left.without_negations(),
        }
    }

    /// FTS5 query syntax: `"a b"*`, `(x) AND (y)`, `(x) NOT (y)`.
    fn fts5(&self, out: &mut String) {
        let list = |out: &mut String, items: &[Match], op: &str| {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                out.push('(');
                item.fts5(out);
                out.push(')');
            }
        };
        match self {
            Match::Phrase { tokens, prefix } => {
                out.push_str(&quote_fts5(&tokens.join(" ")));
                if *prefix {
                    out.push('*');
                }
            }
            Match::And(items) => list(out, items, " AND "),
            Match::Or(items) => list(out, items, " OR "),
            Match::AndNot(left, right) => {
                list(out, &[(**left).clone(), (**right).clone()], " NOT ");
            }
        }
    }

    /// PostgreSQL tsquery syntax: `'a' <-> 'b':*A`, `(x) & (y)`, `(x) & !(y)`.
    fn tsquery(&self, weight: Option<char>, out: &mut String) {
        let list = |out: &mut String, items: &[Match], op: &str| {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(op);
                }
                out.push('(');
                item.tsquery(weight, out);
                out.push(')');
            }
        };
        match self {
            Match::Phrase { tokens, prefix } => {
                for (i, token) in tokens.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" <-> ");
                    }
                    out.push_str(&quote_tsquery(token));
                    let star = *prefix && i + 1 == tokens.len();
                    if star || weight.is_some() {
                        out.push(':');
                        if star {
                            out.push('*');
                        }
                        if let Some(w) = weight {
                            out.push(w);
                        }
                    }
                }
            }
            Match::And(items) => list(out, items, " & "),
            Match::Or(items) => list(out, items, " | "),
            Match::AndNot(left, right) => {
                out.push('(');
                left.tsquery(weight, out);
                out.push_str(") & !(");
                right.tsquery(weight, out);
                out.push(')');
            }
        }
    }
}

/// A record's tokens by bucket, for checking a match in Rust (see `Search::matches`).
pub fn document_buckets(fields: &[(Bucket, &str)]) -> [Vec<String>; 4] {
    let mut buckets: [Vec<String>; 4] = Default::default();
    for (bucket, text) in fields {
        document_tokens(text, *bucket, &mut buckets[*bucket as usize]);
    }
    buckets
}

impl Match {
    fn holds(&self, tokens: &[&Vec<String>]) -> bool {
        match self {
            Match::Phrase {
                tokens: phrase,
                prefix,
            } => tokens.iter().any(|bucket| {
                let n = phrase.len();
                n > 0
                    && bucket.len() >= n
                    && (0..=bucket.len() - n).any(|start| {
                        phrase.iter().enumerate().all(|(k, want)| {
                            let got = &bucket[start + k];
                            if *prefix && k + 1 == n {
                                got.starts_with(want.as_str())
                            } else {
                                got == want
                            }
                        })
                    })
            }),
            Match::And(items) => items.iter().all(|m| m.holds(tokens)),
            Match::Or(items) => items.iter().any(|m| m.holds(tokens)),
            Match::AndNot(left, right) => left.holds(tokens) && !right.holds(tokens),
        }
    }
}

impl Search {
    /// Whether a record with these tokens (`document_buckets`) matches, as the index would
    /// answer: used to re-check matches against only the fields a caller may see.
    pub fn matches(&self, buckets: &[Vec<String>; 4]) -> bool {
        let within: Vec<&Vec<String>> = match self.scope.bucket() {
            Some(bucket) => vec![&buckets[bucket as usize]],
            None => buckets.iter().collect(),
        };
        self.matches.holds(&within)
    }

    /// The text bound as the search condition.
    pub fn query_text(&self, dialect: Dialect) -> String {
        let mut out = String::new();
        match dialect {
            Dialect::Sqlite => {
                if let Some(bucket) = self.scope.bucket() {
                    out.push_str(bucket.column());
                    out.push_str(" : (");
                    self.matches.fts5(&mut out);
                    out.push(')');
                } else {
                    self.matches.fts5(&mut out);
                }
            }
            Dialect::Postgres => self
                .matches
                .tsquery(self.scope.bucket().map(Bucket::weight), &mut out),
        }
        out
    }

    /// Joins the index to the table aliased `root`: only matching records remain, and of
    /// those at most the newest `SEARCHED_MATCHES` (see there). `ranked`: the result is
    /// ordered best match first (`write_rank_order`), not by an ORDER BY of the caller's.
    pub fn write_join(&self, sql: &mut Sql, object: &ObjectDef, root: &str, ranked: bool) {
        let index = table(object);
        match sql.dialect {
            Dialect::Sqlite => {
                // bm25 weighs a match in the name most, then email and phone, then the rest.
                // The FTS rowid is the record number: newest first walks the index backwards
                // and stops, and bm25 is computed for the rows kept only.
                sql.push(" JOIN (SELECT id AS sid, bm25(")
                    .ident(&index)
                    .push(", 0.0, 10.0, 4.0, 4.0, 1.0) AS srank FROM ")
                    .ident(&index)
                    .push(" WHERE ")
                    .ident(&index)
                    .push(" MATCH ")
                    .text_param(&self.query_text(Dialect::Sqlite))
                    .push(" ORDER BY rowid DESC LIMIT ")
                    .push(&SEARCHED_MATCHES.to_string())
                    .push(") srch ON srch.sid = ")
                    .ident(root)
                    .push(".id");
            }
            Dialect::Postgres => {
                // Ids are record numbers in fixed-width base 62, so under a C collation the
                // highest ids are the highest numbers, as SQLite's rowids. A linguistic
                // collation (en_US) compares letter case last, so the window can differ
                // there a little; `COLLATE "C"` here would make PostgreSQL sort every match
                // instead of walking the primary key (3–15× slower on 83,000 matches).
                let window = |sql: &mut Sql| {
                    sql.push("(SELECT id, doc FROM ")
                        .ident(&index)
                        .push(" WHERE doc @@ CAST(")
                        .text_param(&self.query_text(Dialect::Postgres))
                        .push(" AS tsquery) ORDER BY id DESC LIMIT ")
                        .push(&SEARCHED_MATCHES.to_string())
                        .push(")");
                };
                sql.push(" JOIN ");
                if ranked {
                    // Ranked and sorted before the join, so that the planner can read records
                    // in rank order and stop once the LIMIT's rows have passed the filters.
                    // Ranked after it, every match of the window was looked up first: 2,000
                    // primary-key probes (14 of 28 ms for `华为` in 1,000,000 accounts) to
                    // keep 20. The outer ORDER BY stays, so the order never depends on it.
                    sql.push("(SELECT id, ts_rank(doc, CAST(")
                        .text_param(&self.query_text(Dialect::Postgres))
                        .push(" AS tsquery)) AS srank FROM ");
                    window(sql);
                    sql.push(" win ORDER BY srank DESC, id)");
                } else {
                    window(sql);
                }
                sql.push(" srch ON srch.id = ").ident(root).push(".id");
            }
        }
    }

    /// Best matches first, then by id (the index's id, the same as the record's, so that
    /// PostgreSQL can keep the order the ranked window already has instead of sorting).
    pub fn write_rank_order(&self, sql: &mut Sql) {
        match sql.dialect {
            Dialect::Sqlite => sql.push("srch.srank, srch.sid"),
            Dialect::Postgres => sql.push("srch.srank DESC, srch.id"),
        };
    }
}

// ----- the index tables -----

/// Creates the index table of a searchable object (nothing for others).
pub async fn create_index(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    if !object.searchable() {
        return Ok(());
    }
    let index = table(object);
    let mut sql = tx.sql();
    match tx.dialect() {
        Dialect::Sqlite => {
            // Tokens are made by `document_tokens`; unicode61 only splits them at spaces
            // again. Diacritics are kept, as PostgreSQL (without unaccent) keeps them.
            sql.push("CREATE VIRTUAL TABLE IF NOT EXISTS ")
                .ident(&index)
                .push(" USING fts5(id UNINDEXED, name, email, phone, other, tokenize = 'unicode61 remove_diacritics 0')");
            tx.execute(sql).await?;
        }
        Dialect::Postgres => {
            sql.push("CREATE TABLE IF NOT EXISTS ")
                .ident(&index)
                .push(" (id TEXT PRIMARY KEY, doc TSVECTOR NOT NULL)");
            tx.execute(sql).await?;
            let mut gin = tx.sql();
            gin.push("CREATE INDEX IF NOT EXISTS ")
                .ident(&format!("ix_{index}_doc"))
                .push(" ON ")
                .ident(&index)
                .push(" USING GIN (doc)");
            tx.execute(gin).await?;
        }
    }
    Ok(())
}

pub async fn drop_index(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    let mut sql = tx.sql();
    sql.push("DROP TABLE IF EXISTS ").ident(&table(object));
    tx.execute(sql).await.map(drop)
}

/// A record's tokens by bucket.
struct Document {
    id: RecordId,
    buckets: [Vec<String>; 4],
}

impl Document {
    fn new(id: RecordId) -> Document {
        Document {
            id,
            buckets: Default::default(),
        }
    }

    fn add(&mut self, bucket: Bucket, value: &Value) {
        let Value::Text(text) = value else {
            return;
        };
        let used: usize = self.buckets.iter().map(Vec::len).sum();
        if used >= MAX_TOKENS {
            return;
        }
        let tokens = &mut self.buckets[bucket as usize];
        let before = tokens.len();
        document_tokens(text, bucket, tokens);
        tokens.truncate(before + (MAX_TOKENS - used));
    }

    /// `'token':1A,4A 'other':9D` — positions count across buckets in bucket order.
    fn tsvector(&self) -> String {
        let mut positions: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        let mut position = 0usize;
        for bucket in BUCKETS {
            for token in &self.buckets[bucket as usize] {
                position += 1;
                let list = positions.entry(token.as_str()).or_default();
                if list.len() < MAX_POSITIONS {
                    list.push(format!("{}{}", position.min(16_383), bucket.weight()));
                }
            }
        }
        let mut out = String::new();
        for (token, list) in positions {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&quote_tsquery(token));
            out.push(':');
            out.push_str(&list.join(","));
        }
        out
    }
}

/// An index entry as hand-written code would make it (the benchmark baseline): SQLite's
/// rowid and bucket columns, PostgreSQL's tsvector literal.
pub(crate) struct IndexEntry {
    pub rowid: i64,
    pub columns: [String; 4],
    pub tsvector: String,
}

pub(crate) fn index_entry(id: &RecordId, fields: &[(Bucket, &str)]) -> IndexEntry {
    let mut doc = Document::new(id.clone());
    for (bucket, text) in fields {
        doc.add(*bucket, &Value::Text((*text).to_string()));
    }
    IndexEntry {
        rowid: rowid(id),
        tsvector: doc.tsvector(),
        columns: doc.buckets.map(|tokens| tokens.join(" ")),
    }
}

/// The indexed fields of an object, with their positions in `fields`.
fn indexed<'f>(fields: &[&'f FieldDef]) -> Vec<(usize, &'f FieldDef, Bucket)> {
    fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| bucket(f).map(|b| (i, *f, b)))
        .collect()
}

/// Indexes newly inserted records (values in `fields` order, the id among them).
pub(crate) async fn index_new<R>(
    tx: &mut Tx,
    object: &ObjectDef,
    fields: &[&FieldDef],
    rows: &[R],
    value: impl Fn(&R, usize) -> &Value,
) -> Result<()> {
    if !object.searchable() {
        return Ok(());
    }
    let Some(id_at) = fields.iter().position(|f| f.field_type == FieldType::Id) else {
        return Ok(());
    };
    let indexed = indexed(fields);
    let converted_at = fields.iter().position(|f| f.name == CONVERTED);
    let docs: Vec<Document> = rows
        .iter()
        .filter_map(|row| {
            let Value::Id(id) = value(row, id_at) else {
                return None;
            };
            if converted_at.is_some_and(|at| *value(row, at) == Value::Bool(true)) {
                return None;
            }
            let mut doc = Document::new(id.clone());
            for (i, _, bucket) in &indexed {
                doc.add(*bucket, value(row, *i));
            }
            Some(doc)
        })
        .collect();
    write_documents(tx, object, &docs, false).await
}

/// The field that marks converted leads: kept for reporting, never found by search.
const CONVERTED: &str = "IsConverted";

/// Adds to a `WHERE`: the records search finds (live, and not converted leads). Records
/// search would not find are left out of the index, so they take no places among the
/// `SEARCHED_MATCHES`.
fn push_searched(sql: &mut Sql, object: &ObjectDef) {
    sql.push("isdeleted = ").param(Param::Bool(Some(false)));
    if let Some(converted) = object.field(CONVERTED) {
        sql.push(" AND ")
            .ident(&converted.column)
            .push(" = ")
            .param(Param::Bool(Some(false)));
    }
}

/// Rewrites the index entries of `ids` from what the table now holds: records search does
/// not find (in the recycle bin, converted) lose theirs.
pub async fn reindex(tx: &mut Tx, object: &ObjectDef, ids: &[RecordId]) -> Result<()> {
    if !object.searchable() {
        return Ok(());
    }
    let all: Vec<&FieldDef> = object.fields.iter().collect();
    let indexed = indexed(&all);
    let cols = indexed_cols(&indexed);
    for chunk in ids.chunks(DOCS_PER_STATEMENT) {
        let mut sql = tx.sql();
        select_indexed(&mut sql, object, &indexed);
        sql.push(" WHERE id IN (");
        sql.comma_list(chunk, |s, id| {
            s.id_param(id);
        });
        sql.push(") AND ");
        push_searched(&mut sql, object);
        let rows = tx.fetch(sql, &cols).await?;
        let docs = documents(rows, &indexed);
        delete_documents(tx, object, chunk).await?;
        write_documents(tx, object, &docs, false).await?;
    }
    Ok(())
}

/// Removes the records search does not find (the recycle bin's, converted leads) from the
/// index, for a database made when the index kept them.
pub async fn remove_unsearched(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    if !object.searchable() {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("SELECT id FROM ")
        .ident(&object.table)
        .push(" WHERE NOT (");
    push_searched(&mut sql, object);
    sql.push(")");
    let ids: Vec<RecordId> = tx
        .fetch(sql, &[Col::Id])
        .await?
        .into_iter()
        .filter_map(|row| row.first().and_then(Value::as_id).cloned())
        .collect();
    remove(tx, object, &ids).await
}

/// `SELECT id, <indexed columns> FROM <table>`, read back by `documents`.
fn select_indexed(sql: &mut Sql, object: &ObjectDef, indexed: &[(usize, &FieldDef, Bucket)]) {
    sql.push("SELECT id");
    for (_, field, _) in indexed {
        sql.push(", ").ident(&field.column);
    }
    sql.push(" FROM ").ident(&object.table);
}

fn indexed_cols(indexed: &[(usize, &FieldDef, Bucket)]) -> Vec<Col> {
    std::iter::once(Col::Id)
        .chain(indexed.iter().map(|(_, f, _)| Col::of(f)))
        .collect()
}

fn documents(rows: Vec<Vec<Value>>, indexed: &[(usize, &FieldDef, Bucket)]) -> Vec<Document> {
    rows.into_iter()
        .filter_map(|row| {
            let Some(Value::Id(id)) = row.first() else {
                return None;
            };
            let mut doc = Document::new(id.clone());
            for (k, (_, _, bucket)) in indexed.iter().enumerate() {
                if let Some(value) = row.get(k + 1) {
                    doc.add(*bucket, value);
                }
            }
            Some(doc)
        })
        .collect()
}

/// Indexes every record of an object that search finds (for a database made before the
/// index existed), in batches by id.
pub async fn rebuild(tx: &mut Tx, object: &ObjectDef) -> Result<()> {
    if !object.searchable() {
        return Ok(());
    }
    let all: Vec<&FieldDef> = object.fields.iter().collect();
    let indexed = indexed(&all);
    let cols = indexed_cols(&indexed);
    let mut after: Option<RecordId> = None;
    loop {
        let mut sql = tx.sql();
        select_indexed(&mut sql, object, &indexed);
        sql.push(" WHERE ");
        push_searched(&mut sql, object);
        if let Some(after) = &after {
            sql.push(" AND id > ").id_param(after);
        }
        sql.push(" ORDER BY id LIMIT ")
            .int_param(DOCS_PER_STATEMENT as i64);
        let rows = tx.fetch(sql, &cols).await?;
        let Some(last) = rows.last().and_then(|r| r.first()).and_then(Value::as_id) else {
            return Ok(());
        };
        after = Some(last.clone());
        let docs = documents(rows, &indexed);
        write_documents(tx, object, &docs, true).await?;
    }
}

/// Removes the index entries of deleted or purged records.
pub async fn remove(tx: &mut Tx, object: &ObjectDef, ids: &[RecordId]) -> Result<()> {
    if !object.searchable() {
        return Ok(());
    }
    for chunk in ids.chunks(DOCS_PER_STATEMENT) {
        delete_documents(tx, object, chunk).await?;
    }
    Ok(())
}

async fn delete_documents(tx: &mut Tx, object: &ObjectDef, ids: &[RecordId]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut sql = tx.sql();
    sql.push("DELETE FROM ").ident(&table(object));
    match tx.dialect() {
        Dialect::Sqlite => {
            // The rowid is the record number: found without scanning the index.
            let (numbered, other): (Vec<&RecordId>, Vec<&RecordId>) =
                ids.iter().partition(|id| id.record_number().is_some());
            sql.push(" WHERE rowid IN (");
            sql.comma_list(&numbered, |s, id| {
                s.int_param(rowid(id));
            });
            sql.push(")");
            if !other.is_empty() {
                sql.push(" OR id IN (");
                sql.comma_list(&other, |s, id| {
                    s.id_param(id);
                });
                sql.push(")");
            }
        }
        Dialect::Postgres => {
            sql.push(" WHERE id IN (");
            sql.comma_list(ids, |s, id| {
                s.id_param(id);
            });
            sql.push(")");
        }
    }
    tx.execute(sql).await.map(drop)
}

fn rowid(id: &RecordId) -> i64 {
    id.record_number()
        .and_then(|n| i64::try_from(n).ok())
        .unwrap_or(0)
}

async fn write_documents(
    tx: &mut Tx,
    object: &ObjectDef,
    docs: &[Document],
    replace: bool,
) -> Result<()> {
    let index = table(object);
    for chunk in docs.chunks(DOCS_PER_STATEMENT) {
        if chunk.is_empty() {
            continue;
        }
        let dialect = tx.dialect();
        if replace && dialect == Dialect::Sqlite {
            let ids: Vec<RecordId> = chunk.iter().map(|d| d.id.clone()).collect();
            delete_documents(tx, object, &ids).await?;
        }
        let mut sql = tx.sql();
        match dialect {
            Dialect::Sqlite => {
                sql.push("INSERT INTO ")
                    .ident(&index)
                    .push(" (rowid, id, name, email, phone, other) VALUES ");
                sql.comma_list(chunk, |s, doc| {
                    s.push("(");
                    if doc.id.record_number().is_some() {
                        s.int_param(rowid(&doc.id));
                    } else {
                        s.push("NULL");
                    }
                    s.push(", ").id_param(&doc.id);
                    for bucket in BUCKETS {
                        s.push(", ")
                            .param(Param::Text(Some(doc.buckets[bucket as usize].join(" "))));
                    }
                    s.push(")");
                });
            }
            Dialect::Postgres => {
                sql.push("INSERT INTO ")
                    .ident(&index)
                    .push(" (id, doc) VALUES ");
                sql.comma_list(chunk, |s, doc| {
                    s.push("(")
                        .id_param(&doc.id)
                        .push(", CAST(")
                        .text_param(&doc.tsvector())
                        .push(" AS tsvector))");
                });
                if replace {
                    sql.push(" ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc");
                }
            }
        }
        tx.execute(sql).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        document_tokens(text, Bucket::Other, &mut out);
        out
    }

    #[test]
    fn words_are_lower_cased_and_split_at_punctuation() {
        assert_eq!(
            doc("Acme, Inc. — john@acme.com"),
            ["acme", "inc", "john", "acme", "com"]
        );
    }

    #[test]
    fn chinese_is_indexed_by_neighbouring_pairs_and_the_last_character() {
        assert_eq!(doc("华为技术"), ["华为", "为技", "技术", "术"]);
        assert_eq!(doc("IBM中国 x"), ["ibm", "中国", "国", "x"]);
        assert_eq!(doc("京"), ["京"]);
    }

    #[test]
    fn a_search_word_is_a_phrase_of_its_tokens() {
        assert_eq!(
            query_tokens("华为", false),
            (vec!["华为".to_string()], false)
        );
        assert_eq!(
            query_tokens("华为技术", false),
            (vec!["华为".into(), "为技".into(), "技术".into()], false)
        );
        // One character may begin a longer run: a prefix of the pairs.
        assert_eq!(query_tokens("华", false), (vec!["华".to_string()], true));
        assert_eq!(
            query_tokens("华为IBM", false),
            (vec!["华为".into(), "为".into(), "ibm".into()], false)
        );
        assert_eq!(query_tokens("Acm", true), (vec!["acm".to_string()], true));
    }

    #[test]
    fn phone_numbers_also_index_their_digits() {
        let mut out = Vec::new();
        document_tokens("(415) 555-1212", Bucket::Phone, &mut out);
        assert_eq!(out, ["415", "555", "1212", "4155551212"]);
    }

    #[test]
    fn queries_render_for_both_backends() {
        let search = Search {
            matches: Match::AndNot(
                Box::new(Match::Phrase {
                    tokens: vec!["acme".into(), "corp".into()],
                    prefix: true,
                }),
                Box::new(Match::Phrase {
                    tokens: vec!["it's".into()],
                    prefix: false,
                }),
            ),
            scope: Scope::Name,
        };
        assert_eq!(
            search.query_text(Dialect::Sqlite),
            "name : ((\"acme corp\"*) NOT (\"it's\"))"
        );
        assert_eq!(
            search.query_text(Dialect::Postgres),
            "('acme':A <-> 'corp':*A) & !('it''s':A)"
        );
    }

    #[test]
    fn matches_are_checked_as_the_index_answers() {
        let buckets = document_buckets(&[
            (Bucket::Name, "Acme Corporation"),
            (Bucket::Other, "华为技术 partner"),
        ]);
        let phrase = |tokens: &[&str], prefix| Match::Phrase {
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            prefix,
        };
        let search = |matches, scope| Search { matches, scope };
        assert!(search(phrase(&["acme", "corporation"], false), Scope::All).matches(&buckets));
        assert!(!search(phrase(&["corporation", "acme"], false), Scope::All).matches(&buckets));
        assert!(search(phrase(&["corp"], true), Scope::Name).matches(&buckets));
        assert!(!search(phrase(&["partner"], false), Scope::Name).matches(&buckets));
        assert!(search(phrase(&["华为", "为技"], false), Scope::All).matches(&buckets));
        assert!(
            search(
                Match::AndNot(
                    Box::new(phrase(&["acme"], false)),
                    Box::new(phrase(&["globex"], false))
                ),
                Scope::All
            )
            .matches(&buckets)
        );
        assert!(
            !search(
                Match::And(vec![phrase(&["acme"], false), phrase(&["globex"], false)]),
                Scope::All
            )
            .matches(&buckets)
        );
    }

    #[test]
    fn documents_become_tsvector_literals_with_bucket_weights() {
        let mut d = Document::new(RecordId::from_number("001", 1).unwrap());
        d.add(Bucket::Name, &Value::Text("Acme Acme".into()));
        d.add(Bucket::Other, &Value::Text("acme x".into()));
        assert_eq!(d.tsvector(), "'acme':1A,2A,3D 'x':4D");
    }
}
