//! A list view's state, all in its URL: which records (mine, all, a parent's related ones, up
//! to three filters), which columns, the sort, and where the page starts. Turned into SOQL
//! here, with every field checked against the schema and the caller's field access and every
//! value written as a literal of the field's type, never pasted in as typed.

use model::{FieldDef, FieldType, ObjectDef, RecordId};

use super::context::Ui;
use super::fields::list_columns;

/// Filters a view may have.
pub const FILTERS: usize = 3;
/// Columns a view may show.
const MAX_COLUMNS: usize = 12;

/// One filter: field, operator (`eq`, `ne`, `lt`, `gt`, `le`, `ge`, `contains`, `starts`),
/// value as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    pub op: String,
    pub value: String,
}

/// The operators, with their words' catalogue keys.
pub const OPERATORS: [(&str, &str); 8] = [
    ("eq", "op_eq"),
    ("ne", "op_ne"),
    ("contains", "op_contains"),
    ("starts", "op_starts"),
    ("lt", "op_lt"),
    ("gt", "op_gt"),
    ("le", "op_le"),
    ("ge", "op_ge"),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewParams {
    /// `mine` or `all`.
    pub view: Option<String>,
    pub sort: Option<String>,
    /// `desc` for descending.
    pub dir: Option<String>,
    /// Related records: the lookup field and the parent's id.
    pub field: Option<String>,
    pub parent: Option<String>,
    pub filters: Vec<Filter>,
    pub columns: Vec<String>,
    /// Where the page starts: the sort key of the row before it, its position, and the total
    /// the first page counted.
    pub after: Option<String>,
    pub start: Option<u64>,
    pub total: Option<u64>,
    /// Count every record of the view (`count=1`); lists do not by default.
    pub count: bool,
}

impl ViewParams {
    /// From a raw query string (repeated `col` keys are the columns).
    pub fn parse(raw: Option<&str>) -> ViewParams {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
        let mut params = ViewParams::default();
        let mut filters = vec![Filter::default(); FILTERS];
        for (key, value) in pairs {
            let text = || (!value.is_empty()).then(|| value.clone());
            match key.as_str() {
                "view" => params.view = text(),
                "sort" => params.sort = text(),
                "dir" => params.dir = text(),
                "field" => params.field = text(),
                "parent" => params.parent = text(),
                "after" => params.after = text(),
                "start" => params.start = value.parse().ok(),
                "total" => params.total = value.parse().ok(),
                "count" => params.count = value == "1",
                "col" if !value.is_empty() => params.columns.push(value),
                _ => {
                    // f1/o1/v1 … f3/o3/v3.
                    let (kind, n) = key.split_at(key.len().min(1));
                    let Some(slot) = n
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=FILTERS).contains(n))
                        .map(|n| n - 1)
                    else {
                        continue;
                    };
                    match kind {
                        "f" => filters[slot].field = value,
                        "o" => filters[slot].op = value,
                        "v" => filters[slot].value = value,
                        _ => {}
                    }
                }
            }
        }
        params.filters = filters
            .into_iter()
            .filter(|f| !f.field.is_empty())
            .collect();
        params
    }

    /// As a query string (without `?`).
    pub fn query_string(&self) -> String {
        let optional = |key: &str, value: &Option<String>| {
            value.as_ref().map(|v| (key.to_string(), v.clone()))
        };
        let mut pairs: Vec<(String, String)> = Vec::new();
        pairs.extend(optional("view", &self.view));
        pairs.extend(optional("field", &self.field));
        pairs.extend(optional("parent", &self.parent));
        for (i, filter) in self.filters.iter().enumerate() {
            pairs.push((format!("f{}", i + 1), filter.field.clone()));
            pairs.push((format!("o{}", i + 1), filter.op.clone()));
            pairs.push((format!("v{}", i + 1), filter.value.clone()));
        }
        for column in &self.columns {
            pairs.push(("col".into(), column.clone()));
        }
        pairs.extend(optional("sort", &self.sort));
        pairs.extend(optional("dir", &self.dir));
        pairs.extend(optional("after", &self.after));
        pairs.extend(optional("start", &self.start.map(|s| s.to_string())));
        pairs.extend(optional("total", &self.total.map(|s| s.to_string())));
        if self.count {
            pairs.push(("count".into(), "1".into()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    pub fn href(&self, object: &str, suffix: &str) -> String {
        let query = self.query_string();
        if query.is_empty() {
            format!("/o/{object}{suffix}")
        } else {
            format!("/o/{object}{suffix}?{query}")
        }
    }

    /// The same view from its first page.
    pub fn first_page(&self) -> ViewParams {
        ViewParams {
            after: None,
            start: None,
            total: None,
            ..self.clone()
        }
    }
}

/// The view's query, or why it cannot be asked.
pub struct ViewQuery {
    pub soql: String,
    pub columns: Vec<FieldDef>,
    /// The field sorted on and whether descending.
    pub sort: Option<(String, bool)>,
    /// The related view's lookup field and parent, when it is one.
    pub related: Option<(FieldDef, RecordId)>,
}

/// A field the caller may see and filter or sort on.
fn usable<'o>(ui: &Ui, object: &'o ObjectDef, name: &str) -> Option<&'o FieldDef> {
    object.field(name).filter(|f| {
        !ui.hidden(object, &f.name)
            && !matches!(
                f.field_type,
                FieldType::LongTextArea | FieldType::MultiPicklist
            )
    })
}

/// A list sorts on its object's own fields that have one order (not lookups, long text or
/// multi-select picklists).
pub fn sortable(ui: &Ui, object: &ObjectDef, field: &FieldDef) -> bool {
    field.field_type != FieldType::Reference && usable(ui, object, &field.name).is_some()
}

/// The fields a filter may name, in the object's order.
pub fn filterable<'o>(ui: &Ui, object: &'o ObjectDef) -> Vec<&'o FieldDef> {
    object
        .fields
        .iter()
        .filter(|f| f.name != "Id" && usable(ui, object, &f.name).is_some())
        .collect()
}

/// The columns a view shows: those it names (that the caller may see), else the object's.
pub fn view_columns(ui: &Ui, object: &ObjectDef, params: &ViewParams) -> Vec<FieldDef> {
    let chosen: Vec<FieldDef> = params
        .columns
        .iter()
        .filter_map(|name| object.field(name))
        .filter(|f| !ui.hidden(object, &f.name))
        .take(MAX_COLUMNS)
        .cloned()
        .collect();
    if chosen.is_empty() {
        list_columns(ui, object)
    } else {
        chosen
    }
}

/// A SOQL string literal of `text` as a LIKE pattern: `%`, `_`, `\` and quotes typed are
/// matched as themselves; `anywhere` also matches inside the value.
pub fn like_literal(text: &str, anywhere: bool) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    out.push('\'');
    if anywhere {
        out.push('%');
    }
    for c in text.chars().filter(|c| !c.is_control()) {
        if matches!(c, '%' | '_' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str("%'");
    out
}

/// A date literal: `2026-11-27`, or a relative one (`TODAY`, `LAST_N_DAYS:30`).
fn date_literal(text: &str, datetime: bool) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    let relative = upper
        .split_once(':')
        .map_or((upper.as_str(), None), |(w, n)| (w, Some(n)));
    if !relative.0.is_empty()
        && relative
            .0
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_')
        && relative.1.is_none_or(|n| n.parse::<u32>().is_ok())
    {
        return Some(upper);
    }
    let date = model::value::parse_date(text.trim())?;
    let text = model::value::format_date(date);
    Some(if datetime {
        format!("{text}T00:00:00Z")
    } else {
        text
    })
}

/// One filter as a SOQL condition.
fn condition(ui: &Ui, object: &ObjectDef, filter: &Filter) -> Result<String, String> {
    let field = usable(ui, object, &filter.field)
        .ok_or_else(|| format!("{}: {}", filter.field, ui.w.get("filter_no_field")))?;
    let label = super::fields::label(field, ui.caller.lang);
    let bad = |rule: &str| format!("{label}: {}", ui.w.get(rule));
    let value = filter.value.trim();
    let textual = matches!(
        field.field_type,
        FieldType::Text
            | FieldType::TextArea
            | FieldType::Email
            | FieldType::Phone
            | FieldType::Url
            | FieldType::Picklist
            | FieldType::AutoNumber
    );
    let op = match filter.op.as_str() {
        "eq" | "" => "=",
        "ne" => "!=",
        "lt" => "<",
        "gt" => ">",
        "le" => "<=",
        "ge" => ">=",
        "contains" | "starts" if textual => {
            return Ok(format!(
                "{} LIKE {}",
                field.name,
                like_literal(value, filter.op == "contains")
            ));
        }
        "contains" | "starts" => return Err(bad("filter_text_only")),
        _ => return Err(bad("filter_bad_operator")),
    };
    let literal = if value.is_empty() {
        "null".to_string()
    } else {
        match field.field_type {
            FieldType::Number | FieldType::Currency | FieldType::Percent => {
                let plain = value.replace([',', ' ', '_'], "");
                plain
                    .parse::<rust_decimal::Decimal>()
                    .map_err(|_| bad("filter_number"))?
                    .to_string()
            }
            FieldType::Date => date_literal(value, false).ok_or_else(|| bad("filter_date"))?,
            FieldType::DateTime => date_literal(value, true).ok_or_else(|| bad("filter_date"))?,
            FieldType::Checkbox => match value.to_lowercase().as_str() {
                "true" | "yes" | "1" | "是" => "true".into(),
                "false" | "no" | "0" | "否" => "false".into(),
                _ => return Err(bad("filter_checkbox")),
            },
            FieldType::Reference | FieldType::Id => {
                let id = RecordId::parse(value).map_err(|_| bad("filter_id"))?;
                format!("'{}'", id.to_18())
            }
            _ => soql::quote_string(value),
        }
    };
    Ok(format!("{} {op} {literal}", field.name))
}

/// The view's SOQL; `Err` names the filter that cannot be asked and why.
pub fn view_query(ui: &Ui, object: &ObjectDef, params: &ViewParams) -> Result<ViewQuery, String> {
    let columns = view_columns(ui, object, params);
    let mut conditions = Vec::new();
    let related = match (&params.field, &params.parent) {
        (Some(field), Some(parent)) => {
            let field = object
                .field(field)
                .filter(|f| f.field_type == FieldType::Reference && !ui.hidden(object, &f.name))
                .ok_or_else(|| format!("{field}: {}", ui.w.get("filter_no_field")))?;
            let parent = RecordId::parse(parent).map_err(|_| ui.w.get("filter_id").to_string())?;
            conditions.push(format!("{} = '{}'", field.name, parent.to_18()));
            Some((field.clone(), parent))
        }
        _ => None,
    };
    let mine = related.is_none() && object.owned && params.view.as_deref() != Some("all");
    if mine && let Some(me) = &ui.caller.user_id {
        conditions.push(format!("OwnerId = '{}'", me.to_18()));
    }
    for filter in &params.filters {
        conditions.push(condition(ui, object, filter)?);
    }
    let sort = params
        .sort
        .as_deref()
        .and_then(|name| object.field(name))
        .or_else(|| columns.first().and_then(|f| object.field(&f.name)))
        .filter(|f| sortable(ui, object, f))
        .map(|f| (f.name.clone(), params.dir.as_deref() == Some("desc")));
    let mut soql = format!(
        "SELECT {} FROM {}",
        super::fields::select_list(ui, &columns).join(", "),
        object.name
    );
    if !conditions.is_empty() {
        soql.push_str(" WHERE ");
        soql.push_str(&conditions.join(" AND "));
    }
    if let Some((field, descending)) = &sort {
        soql.push_str(&format!(
            " ORDER BY {field} {}",
            if *descending { "DESC" } else { "ASC" }
        ));
    }
    Ok(ViewQuery {
        soql,
        columns,
        sort,
        related,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_state_round_trips_through_the_url() {
        let raw = "view=all&f1=Industry&o1=eq&v1=Energy+%26+Power&col=Name&col=Industry&sort=Name&dir=desc&start=50&count=1";
        let params = ViewParams::parse(Some(raw));
        assert_eq!(params.filters.len(), 1);
        assert_eq!(params.filters[0].value, "Energy & Power");
        assert_eq!(params.columns, ["Name", "Industry"]);
        assert_eq!(params.start, Some(50));
        assert!(params.count);
        assert_eq!(ViewParams::parse(Some(&params.query_string())), params);
        // Unknown keys and out-of-range filter slots are ignored.
        assert_eq!(
            ViewParams::parse(Some("f9=Name&x=1")),
            ViewParams::default()
        );
    }

    #[test]
    fn like_patterns_match_typed_wildcards_and_quotes_literally() {
        assert_eq!(like_literal("50%_off", false), "'50\\%\\_off%'");
        assert_eq!(like_literal("O'Brien\\", true), "'%O\\'Brien\\\\%'");
    }

    #[test]
    fn date_filters_take_dates_and_relative_literals() {
        assert_eq!(
            date_literal("2026-11-27", false).as_deref(),
            Some("2026-11-27")
        );
        assert_eq!(
            date_literal("2026-11-27", true).as_deref(),
            Some("2026-11-27T00:00:00Z")
        );
        assert_eq!(
            date_literal("last_n_days:30", false).as_deref(),
            Some("LAST_N_DAYS:30")
        );
        assert_eq!(date_literal("today; DROP", false), None);
        assert_eq!(date_literal("27/11/2026", false), None);
    }
}
