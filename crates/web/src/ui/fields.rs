//! Fields on pages: which columns a list shows, how a query reads a lookup's name with its
//! id, and a cell as the user sees it (a lookup as a link to its record by name).

use app::query::{Cell, Row};
use model::{FieldDef, FieldType, ObjectDef, RecordId, Value};

use super::context::Ui;
use super::format::Formatter;

/// The columns of a list of the standard objects (the name first); others show their name
/// and when they were created.
fn column_names(object: &str) -> &'static [&'static str] {
    match object {
        "Account" => &["Name", "Type", "Industry", "Phone", "OwnerId"],
        "Contact" => &["Name", "AccountId", "Title", "Email", "Phone", "OwnerId"],
        "Lead" => &[
            "Name",
            "Company",
            "Status",
            "Email",
            "LeadSource",
            "OwnerId",
        ],
        "Opportunity" => &[
            "Name",
            "AccountId",
            "StageName",
            "Amount",
            "CloseDate",
            "OwnerId",
        ],
        "Case" => &["CaseNumber", "Subject", "Status", "Priority", "OwnerId"],
        "Campaign" => &["Name", "Type", "Status", "StartDate", "OwnerId"],
        "Task" => &["Subject", "Status", "Priority", "ActivityDate", "OwnerId"],
        "Event" => &["Subject", "StartDateTime", "EndDateTime", "OwnerId"],
        "User" => &["Name", "Email", "Title", "IsActive"],
        _ => &[],
    }
}

/// A field's label as a page shows it: a lookup is named for what it points to (`Owner`,
/// not the API's `Owner ID`).
pub fn label(field: &FieldDef, lang: model::Lang) -> String {
    let text = field.label.get(lang);
    if field.field_type == FieldType::Reference {
        let trimmed = text.trim_end_matches("ID").trim_end();
        if !trimmed.is_empty() && trimmed.len() < text.len() {
            return trimmed.to_string();
        }
    }
    text.to_string()
}

/// The fields a list of `object` shows to the caller.
pub fn list_columns(ui: &Ui, object: &ObjectDef) -> Vec<FieldDef> {
    let mut columns: Vec<FieldDef> = column_names(&object.name)
        .iter()
        .filter_map(|name| object.field(name))
        .filter(|f| !ui.hidden(object, &f.name))
        .cloned()
        .collect();
    if columns.is_empty() {
        columns.extend(object.name_field().cloned());
        columns.extend(object.field("CreatedDate").cloned());
    }
    columns
}

/// The field that shows a record's name: its name field, or its id when it has none.
pub fn title_field(object: &ObjectDef) -> Option<&FieldDef> {
    object.name_field()
}

/// `Account.Name` for a lookup whose parent's name the caller may read; `None` otherwise
/// (the lookup then shows its id).
fn parent_name_path(ui: &Ui, field: &FieldDef) -> Option<String> {
    let relationship = field.relationship.as_ref()?;
    match field.reference_to.as_slice() {
        [single] => {
            let parent = ui.readable(single)?;
            let name = parent.name_field()?;
            (!ui.hidden(&parent, &name.name)).then(|| format!("{relationship}.{}", name.name))
        }
        // A polymorphic lookup reads each parent's name field as `Name`.
        [_, ..] => Some(format!("{relationship}.Name")),
        [] => None,
    }
}

/// The SELECT list that reads `fields` (a lookup also reads its parent's name), with `Id`.
pub fn select_list(ui: &Ui, fields: &[FieldDef]) -> Vec<String> {
    let mut select = vec!["Id".to_string()];
    for field in fields {
        if field.name != "Id" {
            select.push(field.name.clone());
        }
        if field.field_type == FieldType::Reference
            && let Some(path) = parent_name_path(ui, field)
        {
            select.push(path);
        }
    }
    select
}

/// A cell as shown: its text and, for a record's name or a lookup, the link to the record.
pub struct Shown {
    pub text: String,
    pub href: Option<String>,
}

fn cell<'r>(row: &'r Row, name: &str) -> Option<&'r Cell> {
    row.cells
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| c)
}

/// A field's value of a row as text.
pub fn value<'r>(row: &'r Row, name: &str) -> Option<&'r Value> {
    match cell(row, name) {
        Some(Cell::Value(value)) => Some(value),
        _ => None,
    }
}

/// The name of a record a row's lookup points to, read with [`select_list`].
fn parent_name(row: &Row, field: &FieldDef) -> Option<String> {
    let relationship = field.relationship.as_ref()?;
    match cell(row, relationship)? {
        Cell::Parent(Some(parent)) => parent.cells.iter().find_map(|(n, c)| match c {
            Cell::Value(v) if &**n != "Id" && !v.is_null() => Some(v.to_display()),
            _ => None,
        }),
        _ => None,
    }
}

/// A row's field as the user sees it; the name field links to the record itself.
pub fn show(fmt: &Formatter<'_>, row: &Row, field: &FieldDef) -> Shown {
    let raw = value(row, &field.name).cloned().unwrap_or(Value::Null);
    if field.field_type == FieldType::Reference {
        let Value::Id(id) = &raw else {
            return Shown {
                text: String::new(),
                href: None,
            };
        };
        let text = parent_name(row, field).unwrap_or_else(|| id.to_18());
        return Shown {
            text,
            href: Some(format!("/r/{}", id.to_18())),
        };
    }
    let text = fmt.value(field, &raw);
    let href = (field.name_field || field.name == "Id")
        .then(|| row.id.as_ref().map(|id| format!("/r/{}", id.to_18())))
        .flatten();
    Shown { text, href }
}

/// A row's name, for titles and links (its id when it has no name).
pub fn row_name(fmt: &Formatter<'_>, row: &Row, object: &ObjectDef) -> String {
    title_field(object)
        .and_then(|f| value(row, &f.name).map(|v| fmt.value(f, v)))
        .filter(|t| !t.is_empty())
        .or_else(|| row.id.as_ref().map(|id| id.to_18()))
        .unwrap_or_default()
}

/// The names of records by id (18 characters), read as the caller: one query per object.
pub async fn record_names(
    ui: &Ui,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, app::AppError> {
    let mut by_object: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for id in ids {
        if let Ok(parsed) = model::RecordId::parse(id)
            && let Some(object) = ui.schema.object_by_prefix(parsed.key_prefix())
        {
            by_object
                .entry(object.name.clone())
                .or_default()
                .push(format!("'{}'", parsed.to_18()));
        }
    }
    let mut names = std::collections::HashMap::new();
    for (object, mut ids) in by_object {
        let Some(name) = ui
            .readable(&object)
            .and_then(|o| o.name_field().map(|f| f.name.clone()))
            .filter(|n| ui.schema.object(&object).is_some_and(|o| !ui.hidden(o, n)))
        else {
            continue;
        };
        ids.sort();
        ids.dedup();
        let soql = format!(
            "SELECT Id, {name} FROM {object} WHERE Id IN ({})",
            ids.join(", ")
        );
        for row in ui
            .app
            .query(&ui.caller, &soql, app::query::QueryOptions::default())
            .await?
            .rows
        {
            if let (Some(id), Some(text)) = (&row.id, value(&row, &name)) {
                names.insert(id.to_18(), text.to_display());
            }
        }
    }
    Ok(names)
}

/// One record's name as the caller may read it; `None` when they may not (or it has none).
pub async fn record_name(ui: &Ui, id: &RecordId) -> Result<Option<String>, app::AppError> {
    let id = id.to_18();
    Ok(record_names(ui, std::slice::from_ref(&id))
        .await?
        .remove(&id))
}
