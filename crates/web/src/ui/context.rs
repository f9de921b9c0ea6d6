//! What every signed-in page needs: the caller, the schema and their permissions, the org's
//! settings, the words of their language, and the page's chrome (the top bar's tabs).

use std::sync::Arc;

use app::access::Access;
use app::org::OrgSettings;
use app::{App, Caller};
use axum::response::Response;
use model::{ObjectDef, Schema};

use super::format::Formatter;
use super::pages::server_error;
use super::session::Signed;
use super::words::Words;
use super::{script_path, stylesheet_path};
use crate::AppState;

/// The objects shown as tabs, in this order, when the user may read them; then custom objects.
const TAB_OBJECTS: [&str; 6] = [
    "Lead",
    "Account",
    "Contact",
    "Opportunity",
    "Case",
    "Campaign",
];

/// One tab of the top bar.
#[derive(Clone)]
pub struct Tab {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// The frame around every page (signed-in pages fill in the top bar).
#[derive(Clone)]
pub struct Chrome {
    pub stylesheet: &'static str,
    pub script: &'static str,
    pub csrf: String,
    pub me_name: String,
    pub tabs: Vec<Tab>,
    /// The global search box's text.
    pub q: String,
    /// The top bar's own page shown (`home`, `forecast`), when not an object's.
    pub here: &'static str,
}

impl Chrome {
    /// The frame of a page before sign-in: assets only.
    pub fn bare() -> Chrome {
        Chrome {
            stylesheet: stylesheet_path(),
            script: script_path(),
            csrf: String::new(),
            me_name: String::new(),
            tabs: Vec::new(),
            q: String::new(),
            here: "",
        }
    }
}

/// A signed-in request's context.
pub struct Ui {
    pub app: App,
    pub caller: Caller,
    pub schema: Arc<Schema>,
    pub access: Arc<Access>,
    pub org: OrgSettings,
    pub w: Words,
    pub chrome: Chrome,
}

impl Ui {
    /// Loads the context; `current` names the object whose tab is marked.
    pub async fn load(
        state: &AppState,
        signed: Signed,
        current: Option<&str>,
    ) -> Result<Ui, Response> {
        let caller = signed.session.caller;
        let app = state.app.clone();
        let loaded = async {
            let schema = app.schema().await?;
            let access = app.access(&caller).await?;
            let org = app.org_settings().await?;
            Ok::<_, app::AppError>((schema, access, org))
        };
        let (schema, access, org) = loaded.await.map_err(|e| server_error(&e))?;
        let w = Words::new(caller.lang);
        let tabs = tab_objects(&schema, &access)
            .into_iter()
            .map(|object| Tab {
                href: format!("/o/{}", object.name),
                label: object.plural.get(caller.lang).to_string(),
                current: current.is_some_and(|c| c.eq_ignore_ascii_case(&object.name)),
            })
            .collect();
        let chrome = Chrome {
            stylesheet: stylesheet_path(),
            script: script_path(),
            csrf: signed.session.csrf_token,
            me_name: signed.session.name,
            tabs,
            q: String::new(),
            here: "",
        };
        Ok(Ui {
            app,
            caller,
            schema,
            access,
            org,
            w,
            chrome,
        })
    }

    /// Marks the tab of an object as the current one.
    pub fn mark_tab(&mut self, object: &str) {
        let href = format!("/o/{object}");
        for tab in &mut self.chrome.tabs {
            tab.current = tab.href == href;
        }
    }

    /// The user's IANA time zone (the org's when they have none).
    pub fn zone(&self) -> &str {
        self.caller
            .time_zone
            .as_deref()
            .unwrap_or(&self.org.time_zone)
    }

    /// How values are shown to this user.
    pub fn formatter(&self) -> Formatter<'_> {
        Formatter {
            lang: self.caller.lang,
            zone: self.zone(),
            currency_symbol: &self.org.currency_symbol,
        }
    }

    /// An object the caller may read, by API name (any case).
    pub fn readable(&self, name: &str) -> Option<Arc<ObjectDef>> {
        self.schema
            .object(name)
            .filter(|o| self.access.object(o).read)
            .cloned()
    }

    /// Whether a field of an object is hidden from the caller.
    pub fn hidden(&self, object: &ObjectDef, field: &str) -> bool {
        self.access.fields.hidden(&object.name, field)
    }
}

/// The objects of the top bar's tabs the caller may read.
fn tab_objects(schema: &Schema, access: &Access) -> Vec<Arc<ObjectDef>> {
    let standard = TAB_OBJECTS.iter().filter_map(|name| schema.object(name));
    let custom = schema.objects.iter().filter(|o| o.custom);
    standard
        .chain(custom)
        .filter(|o| access.object(o).read)
        .cloned()
        .collect()
}
