//! Recently viewed records (see `store::recent`): noted when a user opens a record's page;
//! read back only through the query path, so a record the user can no longer see is not
//! shown.

use model::RecordId;

use crate::query::{Cell, QueryOptions};
use crate::{App, Caller, Result};

/// A record the user viewed: its object, id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewed {
    pub object: String,
    pub id: RecordId,
    pub name: String,
}

impl App {
    /// Notes that the caller viewed a record.
    pub async fn note_viewed(&self, caller: &Caller, object: &str, id: &RecordId) -> Result<()> {
        let Some(user) = &caller.user_id else {
            return Ok(());
        };
        let now = model::value::format_datetime(model::value::now_millis());
        Ok(store::recent::viewed(self.store(), user, id, object, &now).await?)
    }

    /// The records the caller viewed last that they may still see, newest first.
    pub async fn recently_viewed(&self, caller: &Caller, limit: usize) -> Result<Vec<Viewed>> {
        let Some(user) = &caller.user_id else {
            return Ok(Vec::new());
        };
        // Read a few more than asked for: some may be deleted or no longer visible.
        let noted = store::recent::of_user(self.store(), user, (limit * 2) as i64).await?;
        let schema = self.schema().await?;
        let access = self.access(caller).await?;
        let mut names: std::collections::HashMap<RecordId, String> = Default::default();
        let mut objects: Vec<&str> = noted.iter().map(|(o, _)| o.as_str()).collect();
        objects.sort_unstable();
        objects.dedup();
        for name in objects {
            let Some(object) = schema.object(name).filter(|o| access.object(o).read) else {
                continue;
            };
            let Some(name_field) = object
                .name_field()
                .filter(|f| !access.fields.hidden(&object.name, &f.name))
            else {
                continue;
            };
            let ids: Vec<String> = noted
                .iter()
                .filter(|(o, _)| o == name)
                .map(|(_, id)| format!("'{}'", id.to_18()))
                .collect();
            let soql = format!(
                "SELECT Id, {} FROM {} WHERE Id IN ({})",
                name_field.name,
                object.name,
                ids.join(", ")
            );
            for row in self
                .query(caller, &soql, QueryOptions::default())
                .await?
                .rows
            {
                let text = row.cells.iter().find_map(|(n, c)| match c {
                    Cell::Value(v) if **n == *name_field.name => Some(v.to_display()),
                    _ => None,
                });
                if let Some(id) = row.id {
                    names.insert(id, text.unwrap_or_default());
                }
            }
        }
        Ok(noted
            .into_iter()
            .filter_map(|(object, id)| {
                let name = names.get(&id)?.clone();
                Some(Viewed { object, id, name })
            })
            .take(limit)
            .collect())
    }
}
