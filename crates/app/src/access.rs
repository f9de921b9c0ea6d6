//! What a caller may do with each object: the profile's object permissions (ObjectPermissions
//! records: Read, Create, Edit, Delete, View All, Modify All) and its system permissions
//! (Modify All Data, View All Data). Checked in the one query path (every object a plan
//! touches) and in every write (`records`, `recycle`).
//!
//! Computed once per user and kept until the security version moves, which every write to a
//! user, a profile, a role or an object permission does (in the same transaction), so a
//! change made anywhere takes effect within a quarter second everywhere.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use model::{ErrorCode, ObjectDef, RecordId, Value};

use crate::{App, AppError, Caller, Result};

/// The objects whose records decide what users may do: a write to one moves the security
/// version.
pub(crate) const SECURITY_OBJECTS: [&str; 7] = [
    "Group",
    "GroupMember",
    "User",
    "Profile",
    "UserRole",
    "ObjectPermissions",
    "FieldPermissions",
];

/// Field-level security: the fields hidden from a user, and those they may read but not
/// change. A FieldPermissions record restricts a field for a profile; a field without one is
/// readable and editable (new fields are visible to every profile until restricted).
#[derive(Debug, Default, Clone)]
pub struct FieldRules {
    hidden: HashSet<(String, String)>,
    read_only: HashSet<(String, String)>,
}

fn key(object: &str, field: &str) -> (String, String) {
    (object.to_ascii_lowercase(), field.to_ascii_lowercase())
}

impl FieldRules {
    pub fn hidden(&self, object: &str, field: &str) -> bool {
        !self.hidden.is_empty() && self.hidden.contains(&key(object, field))
    }

    /// The fields of an object hidden from the user (lower-case API names).
    pub fn hidden_in(&self, object: &str) -> Vec<String> {
        let object = object.to_ascii_lowercase();
        self.hidden
            .iter()
            .filter(|(o, _)| *o == object)
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// Whether the user may not write the field (hidden fields included).
    pub fn read_only(&self, object: &str, field: &str) -> bool {
        self.hidden(object, field)
            || (!self.read_only.is_empty() && self.read_only.contains(&key(object, field)))
    }
}

/// One object's permissions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectAccess {
    pub read: bool,
    pub create: bool,
    pub edit: bool,
    pub delete: bool,
    pub view_all: bool,
    pub modify_all: bool,
}

impl ObjectAccess {
    pub const ALL: ObjectAccess = ObjectAccess {
        read: true,
        create: true,
        edit: true,
        delete: true,
        view_all: true,
        modify_all: true,
    };

    /// The permission names of the CLI and their fields, in dependency order.
    pub const NAMES: [(&'static str, &'static str); 6] = [
        ("read", "PermissionsRead"),
        ("create", "PermissionsCreate"),
        ("edit", "PermissionsEdit"),
        ("delete", "PermissionsDelete"),
        ("view-all", "PermissionsViewAllRecords"),
        ("modify-all", "PermissionsModifyAllRecords"),
    ];

    /// Whether the permission of this CLI name (`read`, `view-all`…) is held.
    pub fn has(&self, name: &str) -> bool {
        self.get(name)
    }

    fn get(&self, name: &str) -> bool {
        match name {
            "read" => self.read,
            "create" => self.create,
            "edit" => self.edit,
            "delete" => self.delete,
            "view-all" => self.view_all,
            _ => self.modify_all,
        }
    }

    fn set(&mut self, name: &str, on: bool) {
        match name {
            "read" => self.read = on,
            "create" => self.create = on,
            "edit" => self.edit = on,
            "delete" => self.delete = on,
            "view-all" => self.view_all = on,
            _ => self.modify_all = on,
        }
    }

    /// Grants or revokes permissions with Salesforce's dependencies: create and edit need
    /// read; delete needs read and edit; view all needs read; modify all needs all the
    /// others. Granting one grants what it needs; revoking one revokes what needs it.
    pub fn change(mut self, names: &[&str], grant: bool) -> ObjectAccess {
        for name in names {
            self.set(name, grant);
        }
        let needs: [(&str, &[&str]); 5] = [
            ("create", &["read"]),
            ("edit", &["read"]),
            ("delete", &["read", "edit"]),
            ("view-all", &["read"]),
            ("modify-all", &["read", "edit", "delete", "view-all"]),
        ];
        // Two passes settle chains (modify all → delete → edit → read).
        for _ in 0..2 {
            for (name, required) in needs {
                if grant && self.get(name) {
                    for r in required {
                        self.set(r, true);
                    }
                }
                if !grant && required.iter().any(|r| !self.get(r)) {
                    self.set(name, false);
                }
            }
        }
        self
    }
}

/// What one user may do.
#[derive(Debug, Default)]
pub struct Access {
    /// Modify All Data (or the system itself): everything.
    modify_all_data: bool,
    /// View All Data: read everything.
    view_all_data: bool,
    /// By object name in lower case.
    objects: HashMap<String, ObjectAccess>,
    /// Which records: organisation-wide defaults and the role hierarchy.
    pub(crate) records: crate::sharing::RecordAccess,
    /// Which fields.
    pub fields: Arc<FieldRules>,
    /// Transfer Record: may change the owner of any record they may edit.
    transfer_any: bool,
    /// Convert Leads.
    convert_leads: bool,
}

impl Access {
    /// Modify All Data: every object, every record.
    pub fn modifies_all_data(&self) -> bool {
        self.modify_all_data
    }

    /// May convert leads (Convert Leads, or Modify All Data).
    pub fn converts_leads(&self) -> bool {
        self.modify_all_data || self.convert_leads
    }

    /// May change the owner of any record they may edit (Transfer Record, or Modify All).
    pub fn transfers_any(&self, object: &ObjectDef) -> bool {
        self.modify_all_data || self.transfer_any || self.object(object).modify_all
    }

    /// View All Data (or more): reads every record.
    pub fn views_all_data(&self) -> bool {
        self.view_all_data || self.modify_all_data
    }

    pub fn object(&self, object: &ObjectDef) -> ObjectAccess {
        if self.modify_all_data {
            return ObjectAccess::ALL;
        }
        let mut access = self
            .objects
            .get(&object.name.to_ascii_lowercase())
            .copied()
            .unwrap_or_default();
        if self.view_all_data {
            access.read = true;
            access.view_all = true;
        }
        access
    }
}

/// Accesses computed, by user, with the security version they were computed at.
#[derive(Default)]
pub(crate) struct AccessCache {
    by_user: Mutex<HashMap<RecordId, (i64, Arc<Access>)>>,
}

/// What a caller was refused: reading an object reads as if it did not exist (as Salesforce
/// answers for objects a profile cannot see); a write names the missing permission.
pub(crate) fn cannot_read(object: &ObjectDef) -> AppError {
    AppError::one(
        ErrorCode::InvalidType,
        format!(
            "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
            object.name
        ),
    )
}

fn refused(object: &ObjectDef, what: &str) -> AppError {
    AppError::one(
        ErrorCode::InsufficientAccessOrReadonly,
        format!(
            "insufficient access rights on object: your profile does not allow you to {what} {} records",
            object.name
        ),
    )
}

/// An operation on records of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Read,
    Create,
    Edit,
    Delete,
}

impl App {
    /// What `caller` may do. The system caller may do everything.
    pub async fn access(&self, caller: &Caller) -> Result<Arc<Access>> {
        let Some(user) = &caller.user_id else {
            return Ok(Arc::new(Access {
                modify_all_data: true,
                ..Default::default()
            }));
        };
        self.schema().await?;
        let version = self.schema.security_version();
        if let Ok(cached) = self.access.by_user.lock()
            && let Some((at, access)) = cached.get(user)
            && *at == version
        {
            return Ok(access.clone());
        }
        // Boxed: loading reads records, and reads check access (never for the system caller
        // this uses, but the compiler cannot know).
        let access = Arc::new(Box::pin(self.load_access(user)).await?);
        if let Ok(mut cached) = self.access.by_user.lock() {
            cached.insert(user.clone(), (version, access.clone()));
        }
        Ok(access)
    }

    async fn load_access(&self, user: &RecordId) -> Result<Access> {
        let system = Caller::system();
        let profile = self
            .get(
                &system,
                "User",
                &user.to_18(),
                Some(&["ProfileId".to_string()]),
            )
            .await?
            .get("ProfileId")
            .and_then(Value::as_id)
            .cloned();
        let Some(profile) = profile else {
            return Ok(Access::default());
        };
        let flags = self
            .get(
                &system,
                "Profile",
                &profile.to_18(),
                Some(&[
                    "PermissionsModifyAllData".to_string(),
                    "PermissionsViewAllData".to_string(),
                    "PermissionsTransferAnyEntity".to_string(),
                    "PermissionsConvertLeads".to_string(),
                ]),
            )
            .await?;
        let flag = |name: &str| flags.get(name) == Some(&Value::Bool(true));
        let mut fields = vec!["SobjectType"];
        fields.extend(ObjectAccess::NAMES.iter().map(|(_, f)| *f));
        let rows = self
            .find(
                &system,
                "ObjectPermissions",
                &fields,
                Some(store::Filter::eq("ParentId", Value::Id(profile.clone()))),
                Vec::new(),
                None,
            )
            .await?;
        let mut objects = HashMap::new();
        for row in rows {
            let Some(name) = row.get("SobjectType").and_then(Value::as_text) else {
                continue;
            };
            let on = |field: &str| row.get(field) == Some(&Value::Bool(true));
            objects.insert(
                name.to_ascii_lowercase(),
                ObjectAccess {
                    read: on("PermissionsRead"),
                    create: on("PermissionsCreate"),
                    edit: on("PermissionsEdit"),
                    delete: on("PermissionsDelete"),
                    view_all: on("PermissionsViewAllRecords"),
                    modify_all: on("PermissionsModifyAllRecords"),
                },
            );
        }
        let (modify_all_data, view_all_data) = (
            flag("PermissionsModifyAllData"),
            flag("PermissionsViewAllData"),
        );
        let records = self
            .load_record_access(user, modify_all_data || view_all_data)
            .await?;
        let mut fields = FieldRules::default();
        let rows = self
            .find(
                &system,
                "FieldPermissions",
                &["Field", "PermissionsRead", "PermissionsEdit"],
                Some(store::Filter::eq("ParentId", Value::Id(profile.clone()))),
                Vec::new(),
                None,
            )
            .await?;
        for row in rows {
            let Some((object, field)) = row
                .get("Field")
                .and_then(Value::as_text)
                .and_then(|f| f.split_once('.'))
            else {
                continue;
            };
            let on = |name: &str| row.get(name) == Some(&Value::Bool(true));
            if !on("PermissionsRead") {
                fields.hidden.insert(key(object, field));
            } else if !on("PermissionsEdit") {
                fields.read_only.insert(key(object, field));
            }
        }
        Ok(Access {
            modify_all_data,
            view_all_data,
            transfer_any: flag("PermissionsTransferAnyEntity"),
            convert_leads: flag("PermissionsConvertLeads"),
            objects,
            records,
            fields: Arc::new(fields),
        })
    }

    /// Drops what this process computed: after a change it made, so it takes effect here at
    /// once (other processes follow the security version).
    pub(crate) fn forget_access(&self) {
        if let Ok(mut cached) = self.access.by_user.lock() {
            cached.clear();
        }
        self.forget_built_shares();
    }

    /// Refuses `need` on `object` unless the caller's profile allows it.
    pub(crate) async fn require(
        &self,
        caller: &Caller,
        object: &ObjectDef,
        need: Need,
    ) -> Result<()> {
        if caller.user_id.is_none() {
            return Ok(());
        }
        let all = self.access(caller).await?;
        // Users, profiles, roles, groups and permissions are the administrators' to change,
        // whatever a profile's rows say: a user who could would give themselves anything.
        if need != Need::Read
            && SECURITY_OBJECTS.contains(&object.name.as_str())
            && !all.modifies_all_data()
        {
            return Err(refused(object, "change"));
        }
        let access = all.object(object);
        match need {
            Need::Read if !access.read => Err(cannot_read(object)),
            Need::Create if !access.create => Err(refused(object, "create")),
            Need::Edit if !access.edit => Err(refused(object, "edit")),
            Need::Delete if !access.delete => Err(refused(object, "delete")),
            _ => Ok(()),
        }
    }
}

/// Every object a plan reads: its tables (the root and the parents it joins) and those of the
/// semi-joins in its filter.
fn plan_objects<'p>(plan: &'p store::query::QueryPlan, out: &mut Vec<&'p ObjectDef>) {
    out.extend(plan.sources.iter().map(|s| &*s.object));
    if let Some(filter) = &plan.filter {
        cond_objects(filter, out);
    }
}

fn cond_objects<'p>(cond: &'p store::query::Cond, out: &mut Vec<&'p ObjectDef>) {
    use store::query::Cond;
    match cond {
        Cond::InQuery { plan, .. } => plan_objects(plan, out),
        Cond::And(parts) | Cond::Or(parts) => {
            for part in parts {
                cond_objects(part, out);
            }
        }
        Cond::Not(inner) => cond_objects(inner, out),
        _ => {}
    }
}

impl App {
    /// Refuses a plan that reads an object the caller may not read (a parent path, a child
    /// subquery's object, a semi-join's), as if that object did not exist.
    pub(crate) async fn require_plan(
        &self,
        caller: &Caller,
        plan: &store::query::QueryPlan,
    ) -> Result<()> {
        if caller.user_id.is_none() {
            return Ok(());
        }
        let access = self.access(caller).await?;
        let mut objects = Vec::new();
        plan_objects(plan, &mut objects);
        match objects.into_iter().find(|o| !access.object(o).read) {
            Some(object) => Err(cannot_read(object)),
            None => Ok(()),
        }
    }
}

/// The permissions a profile of a new org has on an object: System Administrator everything;
/// Read Only reading; the others the records of daily work (objects people create and delete)
/// in full and the rest (users, profiles, roles, the org) read-only. Object permissions
/// and quotas are the administrators' (managers see quotas in forecasts).
fn default_access(profile: &str, modify_all_data: bool, object: &ObjectDef) -> ObjectAccess {
    if modify_all_data {
        return ObjectAccess::ALL;
    }
    let read = ObjectAccess {
        read: true,
        ..Default::default()
    };
    if matches!(
        object.name.as_str(),
        "ObjectPermissions" | "FieldPermissions" | "RecordShare" | "ForecastingQuota"
    ) {
        ObjectAccess::default()
    } else if profile == "Read Only"
        || !(object.createable && object.deletable)
        || SECURITY_OBJECTS.contains(&object.name.as_str())
    {
        read
    } else {
        ObjectAccess {
            read: true,
            create: true,
            edit: true,
            delete: true,
            view_all: false,
            modify_all: false,
        }
    }
}

fn permission_input(
    profile: &RecordId,
    object: &str,
    access: ObjectAccess,
) -> crate::records::RecordInput {
    let mut input = crate::records::RecordInput::new();
    input.insert("ParentId".into(), profile.to_18().into());
    input.insert("SobjectType".into(), object.into());
    for (name, field) in ObjectAccess::NAMES {
        input.insert(field.into(), access.get(name).into());
    }
    input
}

/// Gives every profile its object permissions on a database that has none yet (a new org,
/// or one made before object permissions existed).
pub(crate) async fn ensure_object_permissions(app: &App) -> Result<()> {
    let system = Caller::system();
    let any = |app: &App| {
        let app = app.clone();
        async move {
            Ok::<bool, AppError>(
                !app.find(
                    &Caller::system(),
                    "ObjectPermissions",
                    &["Id"],
                    None,
                    Vec::new(),
                    Some(1),
                )
                .await?
                .is_empty(),
            )
        }
    };
    if any(app).await? {
        return Ok(());
    }
    if !app.store().claim_once("object_permissions_seeded").await? {
        // Another process is writing them; wait for it (and write them here if it died).
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if any(app).await? {
                return Ok(());
            }
        }
    }
    let schema = app.schema().await?;
    let profiles = app
        .find(
            &system,
            "Profile",
            &["Id", "Name", "PermissionsModifyAllData"],
            None,
            Vec::new(),
            None,
        )
        .await?;
    let mut inputs = Vec::new();
    for profile in &profiles {
        let (Some(id), Some(name)) = (
            profile.get("Id").and_then(Value::as_id),
            profile.get("Name").and_then(Value::as_text),
        ) else {
            continue;
        };
        let all = profile.get("PermissionsModifyAllData") == Some(&Value::Bool(true));
        for object in &schema.objects {
            inputs.push(permission_input(
                id,
                &object.name,
                default_access(name, all, object),
            ));
        }
    }
    app.insert_permissions(inputs).await
}

impl App {
    /// A new object gets, on every profile, the permissions that profile has on Account (an
    /// administrator narrows them with `rapport profile object`).
    pub(crate) async fn grant_like_account(&self, objects: &[&str]) -> Result<()> {
        let system = Caller::system();
        let mut fields = vec!["ParentId"];
        fields.extend(ObjectAccess::NAMES.iter().map(|(_, f)| *f));
        let rows = self
            .find(
                &system,
                "ObjectPermissions",
                &fields,
                Some(store::Filter::eq(
                    "SobjectType",
                    Value::Text("Account".into()),
                )),
                Vec::new(),
                None,
            )
            .await?;
        let mut inputs = Vec::new();
        for row in &rows {
            let Some(profile) = row.get("ParentId").and_then(Value::as_id) else {
                continue;
            };
            let mut access = ObjectAccess::default();
            for (name, field) in ObjectAccess::NAMES {
                access.set(name, row.get(field) == Some(&Value::Bool(true)));
            }
            for object in objects {
                inputs.push(permission_input(profile, object, access));
            }
        }
        self.insert_permissions(inputs).await
    }

    /// Inserts ObjectPermissions records as the system, in one transaction.
    async fn insert_permissions(&self, inputs: Vec<crate::records::RecordInput>) -> Result<()> {
        let schema = self.schema().await?;
        // Numbers first: inside a transaction SQLite would wait on the lock it holds.
        let mut numbers = self
            .store()
            .reserve_record_numbers(inputs.len() as u64)
            .await?;
        let mut tx = self.store().begin().await?;
        self.insert_all_in(
            &mut tx,
            &schema,
            &Caller::system(),
            "ObjectPermissions",
            inputs,
            &mut numbers,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl App {
    /// Grants or revokes object permissions of a profile (`read`, `create`, `edit`, `delete`,
    /// `view-all`, `modify-all`, with their dependencies); returns what the profile then has.
    pub async fn change_object_permissions(
        &self,
        caller: &Caller,
        profile: &str,
        object: &str,
        names: &[String],
        grant: bool,
    ) -> Result<ObjectAccess> {
        let known: Vec<&str> = ObjectAccess::NAMES.iter().map(|(n, _)| *n).collect();
        let mut wanted: Vec<&str> = Vec::new();
        for name in names {
            let name = name.trim().to_ascii_lowercase();
            match known.iter().find(|k| **k == name) {
                Some(k) => wanted.push(k),
                None => {
                    return Err(AppError::one(
                        ErrorCode::InvalidField,
                        format!(
                            "unknown object permission '{name}': use {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        let profile_id = self.id_by_name("Profile", profile).await?.ok_or_else(|| {
            AppError::one(ErrorCode::NotFound, format!("no profile named {profile}"))
        })?;
        let schema = self.schema().await?;
        let object = crate::query::object_named(&schema, object)?;
        let mut fields = vec!["Id"];
        fields.extend(ObjectAccess::NAMES.iter().map(|(_, f)| *f));
        let existing = self
            .find(
                &Caller::system(),
                "ObjectPermissions",
                &fields,
                Some(store::Filter::And(vec![
                    store::Filter::eq("ParentId", Value::Id(profile_id.clone())),
                    store::Filter::eq("SobjectType", Value::Text(object.name.clone())),
                ])),
                Vec::new(),
                Some(1),
            )
            .await?;
        let mut current = ObjectAccess::default();
        if let Some(row) = existing.first() {
            for (name, field) in ObjectAccess::NAMES {
                current.set(name, row.get(field) == Some(&Value::Bool(true)));
            }
        }
        let changed = current.change(&wanted, grant);
        let input = permission_input(&profile_id, &object.name, changed);
        let existing = existing.first().and_then(|r| r.id().cloned());
        self.write_permission(caller, "ObjectPermissions", existing, input)
            .await?;
        Ok(changed)
    }

    /// Updates a permission or share record, or creates it; then drops this process's cached
    /// access (other processes follow the security version within a quarter second).
    pub(crate) async fn write_permission(
        &self,
        caller: &Caller,
        object: &str,
        existing: Option<RecordId>,
        input: crate::records::RecordInput,
    ) -> Result<()> {
        match existing {
            Some(id) => {
                self.update(
                    caller,
                    object,
                    crate::records::Update {
                        id: id.to_18(),
                        input,
                        if_unmodified_since: None,
                    },
                )
                .await?
            }
            None => {
                self.create(caller, object, input).await?;
            }
        }
        self.forget_access();
        Ok(())
    }
}

/// A field's access for a profile, as `rapport profile field` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAccess {
    Hidden,
    ReadOnly,
    Edit,
}

impl FieldAccess {
    pub fn parse(text: &str) -> Option<FieldAccess> {
        match text.trim().to_ascii_lowercase().as_str() {
            "hidden" => Some(FieldAccess::Hidden),
            "read-only" => Some(FieldAccess::ReadOnly),
            "edit" => Some(FieldAccess::Edit),
            _ => None,
        }
    }
}

impl App {
    /// Sets a field's access for a profile (`Account.Site`): hidden, read-only or editable.
    /// System fields (Id, the audit fields) and required fields cannot be hidden.
    pub async fn set_field_access(
        &self,
        caller: &Caller,
        profile: &str,
        field: &str,
        access: FieldAccess,
    ) -> Result<()> {
        let Some((object_name, field_name)) = field.split_once('.') else {
            return Err(AppError::one(
                ErrorCode::InvalidField,
                format!("name the field with its object: Account.Site, not {field}"),
            ));
        };
        let schema = self.schema().await?;
        let object = crate::query::object_named(&schema, object_name)?;
        let field = object.field(field_name).cloned().ok_or_else(|| {
            AppError::one(
                ErrorCode::InvalidField,
                format!("No such column '{field_name}' on entity '{}'", object.name),
            )
        })?;
        if access != FieldAccess::Edit && (field.is_system() || field.required || field.name_field)
        {
            return Err(AppError::on_field(
                ErrorCode::InvalidField,
                &field.name,
                format!(
                    "{}.{} is a system, required or name field: every profile that sees {} sees and sets it",
                    object.name, field.name, object.name
                ),
            ));
        }
        let profile_id = self.id_by_name("Profile", profile).await?.ok_or_else(|| {
            AppError::one(ErrorCode::NotFound, format!("no profile named {profile}"))
        })?;
        let qualified = format!("{}.{}", object.name, field.name);
        let existing = self
            .find(
                &Caller::system(),
                "FieldPermissions",
                &["Id"],
                Some(store::Filter::And(vec![
                    store::Filter::eq("ParentId", Value::Id(profile_id.clone())),
                    store::Filter::eq("Field", Value::Text(qualified.clone())),
                ])),
                Vec::new(),
                Some(1),
            )
            .await?;
        let mut input = crate::records::RecordInput::new();
        input.insert("ParentId".into(), profile_id.to_18().into());
        input.insert("SobjectType".into(), object.name.clone().into());
        input.insert("Field".into(), qualified.into());
        input.insert(
            "PermissionsRead".into(),
            (access != FieldAccess::Hidden).into(),
        );
        input.insert(
            "PermissionsEdit".into(),
            (access == FieldAccess::Edit).into(),
        );
        let existing = existing.first().and_then(|r| r.id().cloned());
        self.write_permission(caller, "FieldPermissions", existing, input)
            .await
    }
}
