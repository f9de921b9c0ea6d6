//! Record-level access: organisation-wide defaults per object (Private, Public Read Only,
//! Public Read/Write, Controlled by Parent) and the role hierarchy (a user sees and edits what
//! users in the roles below theirs own). Turned into conditions on plans, so the one query
//! path applies them: the queried object's rows, joined parents (which read as null when
//! hidden), child subqueries and semi-joins alike. Implicit sharing: an account is readable
//! by the owners of its contacts, opportunities and cases.

use std::collections::{HashMap, HashSet};

use model::{ErrorCode, FieldType, ObjectDef, RecordId, Schema, Value};
use store::plan::Deleted;
use store::query::{Column, Compare, Cond, QueryPlan, SharedWith, Source};

use crate::access::Access;
use crate::{App, AppError, Caller, Result};

/// An object's organisation-wide default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    Private,
    PublicRead,
    PublicReadWrite,
    ControlledByParent,
}

/// Settings are stored as `sharing:<object in lower case>`.
pub(crate) const SETTING_PREFIX: &str = "sharing:";

/// How deep conditions follow parents (a contact's account, an activity's record): enough
/// for Salesforce's standard chains, and a stop for cycles.
const MAX_DEPTH: u8 = 2;

impl Sharing {
    pub const NAMES: [(&'static str, Sharing); 4] = [
        ("private", Sharing::Private),
        ("public-read-only", Sharing::PublicRead),
        ("public-read-write", Sharing::PublicReadWrite),
        ("controlled-by-parent", Sharing::ControlledByParent),
    ];

    pub fn parse(text: &str) -> Option<Sharing> {
        Sharing::NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text.trim()))
            .map(|(_, s)| *s)
    }

    pub fn name(self) -> &'static str {
        Sharing::NAMES
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("private", |(name, _)| name)
    }

    /// A new org's defaults (the reference's table): accounts, leads, cases and custom
    /// objects public read/write; opportunities public read only; contacts and activities
    /// follow their parent records.
    pub fn default_for(object: &ObjectDef) -> Sharing {
        match object.name.as_str() {
            "Opportunity" => Sharing::PublicRead,
            "Contact" | "Task" | "Event" => Sharing::ControlledByParent,
            _ => Sharing::PublicReadWrite,
        }
    }
}

/// Who may see what, for one user: the owners whose records they see through the hierarchy
/// (themselves and the users below them), and the defaults.
#[derive(Debug, Default)]
pub(crate) struct RecordAccess {
    /// The user this is for (`None` for those who see everything).
    user: Option<RecordId>,
    /// `None`: every record (View/Modify All Data, or the system).
    pub owners: Option<Vec<RecordId>>,
    pub defaults: HashMap<String, Sharing>,
    /// The sharing rules that share records with this user.
    rules: Vec<Grant>,
}

/// What a sharing rule grants one user: records of an object owned by some users, or
/// matching some criteria (a condition on the object's own fields, as source 0).
#[derive(Debug)]
struct Grant {
    object: String,
    edit: bool,
    records: GrantRecords,
}

#[derive(Debug)]
enum GrantRecords {
    OwnedBy(Vec<RecordId>),
    Matching(Box<Cond>),
}

/// A sharing rule as administrators define it (`rapport sharing rule add`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SharingRule {
    pub object: String,
    pub name: String,
    /// Owner-based: records owned by users in this role …
    pub owned_by_role: Option<String>,
    /// … and in the roles below it.
    pub include_subordinates: bool,
    /// Criteria-based: records matching this SOQL condition on the object's own fields.
    pub criteria: Option<String>,
    /// Shared with users in this role (and, through the hierarchy, those above it) …
    pub share_with_role: Option<String>,
    /// … or with the members of this public group.
    #[serde(default)]
    pub share_with_group: Option<String>,
    /// … and in the roles below it.
    pub share_with_subordinates: bool,
    /// `read` or `edit`.
    pub access: String,
    /// The records behind the names above, recorded when the rule is added.
    #[serde(default)]
    pub targets: RuleTargets,
}

/// The ids (18 characters) of the roles and the group a rule names. A rule follows them, as
/// Salesforce's do: renaming a role or group keeps the rule, and a name that another role
/// or group takes later does not capture it. Rules stored before ids were kept have none and
/// are matched by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleTargets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_with_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_with_group: Option<String>,
}

/// Rules are stored as `sharing-rule:<object>:<name>` settings holding the rule as JSON.
const RULE_PREFIX: &str = "sharing-rule:";

/// The answer for a group name no group has.
fn no_group(name: &str) -> AppError {
    AppError::one(ErrorCode::NotFound, format!("no group named {name}"))
}

/// What a condition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Read,
    Edit,
}

impl RecordAccess {
    fn sharing(&self, object: &ObjectDef) -> Sharing {
        self.defaults
            .get(&object.name.to_ascii_lowercase())
            .copied()
            .unwrap_or_else(|| Sharing::default_for(object))
    }

    fn owner_in(&self, object: &ObjectDef, source: usize, owners: &[RecordId]) -> Option<Cond> {
        let field = object.field("OwnerId")?.clone();
        Some(Cond::In {
            column: Column { source, field },
            values: owners.iter().cloned().map(Value::Id).collect(),
        })
    }

    /// The records of `object` the caller may read (`want` Read) or edit, as a condition on
    /// plan source `source`; `None` when that is every record.
    /// `ready`: the objects whose share rows are current (see `shares`); a read of one of
    /// them is a lookup of the caller's share rows.
    #[allow(clippy::too_many_arguments)]
    fn condition(
        &self,
        schema: &Schema,
        access: &Access,
        ready: &HashSet<String>,
        object: &ObjectDef,
        source: usize,
        want: Want,
        depth: u8,
    ) -> Option<Cond> {
        let owners = self.owners.as_ref()?;
        if let Some(link) = detail_link(schema, object) {
            // A field-history row, a stage snapshot, a contact role, a line item or a
            // campaign member is read with its record: the record's rules decide.
            return self.through_parents(
                schema,
                access,
                ready,
                object,
                &[link],
                source,
                want,
                depth,
            );
        }
        let permissions = access.object(object);
        if permissions.modify_all || (want == Want::Read && permissions.view_all) {
            return None;
        }
        if !object.owned {
            return None;
        }
        let sharing = self.sharing(object);
        let own = self.owner_in(object, source, owners);
        match (sharing, want) {
            (Sharing::PublicReadWrite, _) | (Sharing::PublicRead, Want::Read) => None,
            (Sharing::PublicRead, Want::Edit) => {
                let mut any: Vec<Cond> = own.into_iter().collect();
                any.extend(self.granted(object, source, want));
                any.extend(manual(schema, object, source, owners, want));
                Some(or(any))
            }
            (Sharing::Private, Want::Read)
                if ready.contains(&object.name.to_ascii_lowercase())
                    && let Some(user) = &self.user =>
            {
                Some(Cond::Shared {
                    column: Column {
                        source,
                        field: object.field("Id")?.clone(),
                    },
                    with: SharedWith {
                        // The schema's own copy: cloning an object for every read costs
                        // more than a rep's query.
                        object: schema
                            .object(&object.name)
                            .cloned()
                            .unwrap_or_else(|| std::sync::Arc::new(object.clone())),
                        user: user.clone(),
                    },
                })
            }
            (Sharing::Private, _) => {
                let mut any: Vec<Cond> = own.into_iter().collect();
                if want == Want::Read {
                    any.extend(self.implicit(schema, object, source, owners));
                }
                any.extend(self.granted(object, source, want));
                any.extend(manual(schema, object, source, owners, want));
                Some(or(any))
            }
            (Sharing::ControlledByParent, _) => {
                let lookups: Vec<&str> = parent_lookups(object)
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect();
                let parents = self
                    .through_parents(schema, access, ready, object, &lookups, source, want, depth);
                let mut any: Vec<Cond> = own.into_iter().collect();
                any.extend(parents);
                Some(or(any))
            }
        }
    }

    /// The records of `object` whose parent (through any of `lookups`) the caller may read
    /// or edit; `None` when that is every record with a parent.
    #[allow(clippy::too_many_arguments)]
    fn through_parents(
        &self,
        schema: &Schema,
        access: &Access,
        ready: &HashSet<String>,
        object: &ObjectDef,
        lookups: &[&str],
        source: usize,
        want: Want,
        depth: u8,
    ) -> Option<Cond> {
        let mut any: Vec<Cond> = Vec::new();
        if depth < MAX_DEPTH {
            for field in lookups.iter().filter_map(|name| object.field(name)) {
                for target in &field.reference_to {
                    let Some(parent) = schema.object(target) else {
                        continue;
                    };
                    let column = Column {
                        source,
                        field: field.clone(),
                    };
                    match self.condition(schema, access, ready, parent, 0, want, depth + 1) {
                        None if field.reference_to.len() == 1 => any.push(Cond::Compare {
                            column,
                            op: Compare::Ne,
                            value: Value::Null,
                        }),
                        // The parent's share rows hold its id: test the lookup
                        // against them directly.
                        Some(Cond::Shared { with, .. }) => any.push(Cond::Shared { column, with }),
                        parent_condition => any.push(Cond::InQuery {
                            column,
                            plan: Box::new(id_plan(parent, parent_condition, depth)),
                            negated: false,
                        }),
                    }
                }
            }
        }
        Some(or(any))
    }

    /// What sharing rules add for `object` (at plan source `source`).
    fn granted(&self, object: &ObjectDef, source: usize, want: Want) -> Vec<Cond> {
        self.rules
            .iter()
            .filter(|g| {
                g.object.eq_ignore_ascii_case(&object.name) && (g.edit || want == Want::Read)
            })
            .filter_map(|g| match &g.records {
                GrantRecords::OwnedBy(users) => self.owner_in(object, source, users),
                GrantRecords::Matching(cond) => Some(at_source(cond, source)),
            })
            .collect()
    }

    /// An account is readable by the owners (and those above them) of its contacts,
    /// opportunities and cases: the children that point to it through `AccountId`.
    fn implicit(
        &self,
        schema: &Schema,
        object: &ObjectDef,
        source: usize,
        owners: &[RecordId],
    ) -> Vec<Cond> {
        let Some(id) = object.field("Id") else {
            return Vec::new();
        };
        schema
            .child_relationships(&object.name)
            .iter()
            .filter(|c| c.field == "AccountId")
            .filter_map(|c| {
                let child = schema.object(&c.child_object)?;
                let link = child.field(&c.field)?.clone();
                let filter = self.owner_in(child, 0, owners)?;
                let mut plan = id_plan(child, Some(filter), 0);
                // A child in the recycle bin no longer opens its account.
                plan.deleted = Deleted::Exclude;
                plan.columns = vec![Column {
                    source: 0,
                    field: link,
                }];
                Some(Cond::InQuery {
                    column: Column {
                        source,
                        field: id.clone(),
                    },
                    plan: Box::new(plan),
                    negated: false,
                })
            })
            .collect()
    }
}

/// Records shared by hand with the caller (or someone below them): RecordShare rows, at
/// `Edit` for edits.
fn manual(
    schema: &Schema,
    object: &ObjectDef,
    source: usize,
    owners: &[RecordId],
    want: Want,
) -> Option<Cond> {
    let shares = schema.object("RecordShare")?;
    let id = object.field("Id")?.clone();
    let record = shares.field("RecordId")?.clone();
    let mut filter = vec![Cond::In {
        column: Column {
            source: 0,
            field: shares.field("UserOrGroupId")?.clone(),
        },
        values: owners.iter().cloned().map(Value::Id).collect(),
    }];
    if want == Want::Edit {
        filter.push(Cond::Compare {
            column: Column {
                source: 0,
                field: shares.field("AccessLevel")?.clone(),
            },
            op: Compare::Eq,
            value: Value::Text("Edit".into()),
        });
    }
    let mut plan = id_plan(shares, Some(Cond::And(filter)), 0);
    // A deleted share no longer shares.
    plan.deleted = Deleted::Exclude;
    plan.columns = vec![Column {
        source: 0,
        field: record,
    }];
    Some(Cond::InQuery {
        column: Column { source, field: id },
        plan: Box::new(plan),
        negated: false,
    })
}

/// A condition written for source 0, moved to another source of the plan.
fn at_source(cond: &Cond, source: usize) -> Cond {
    let moved = |c: &Column| Column {
        source,
        field: c.field.clone(),
    };
    match cond {
        Cond::Compare { column, op, value } => Cond::Compare {
            column: moved(column),
            op: *op,
            value: value.clone(),
        },
        Cond::DatePart {
            part,
            column,
            op,
            value,
        } => Cond::DatePart {
            part: *part,
            column: moved(column),
            op: *op,
            value: value.clone(),
        },
        Cond::Holds { column, value } => Cond::Holds {
            column: moved(column),
            value: value.clone(),
        },
        Cond::Like { column, pattern } => Cond::Like {
            column: moved(column),
            pattern: pattern.clone(),
        },
        Cond::InQuery {
            column,
            plan,
            negated,
        } => Cond::InQuery {
            column: moved(column),
            plan: plan.clone(),
            negated: *negated,
        },
        Cond::In { column, values } => Cond::In {
            column: moved(column),
            values: values.clone(),
        },
        Cond::Shared { column, with } => Cond::Shared {
            column: moved(column),
            with: with.clone(),
        },
        Cond::And(parts) => Cond::And(parts.iter().map(|p| at_source(p, source)).collect()),
        Cond::Or(parts) => Cond::Or(parts.iter().map(|p| at_source(p, source)).collect()),
        Cond::Not(inner) => Cond::Not(Box::new(at_source(inner, source))),
    }
}

fn or(mut any: Vec<Cond>) -> Cond {
    if any.len() == 1 {
        any.remove(0)
    } else {
        Cond::Or(any)
    }
}

/// The lookup through which a record without an owner of its own belongs to one that has
/// one (its master): a history row's record, a contact role's opportunity, a campaign
/// member's campaign. Such records are read as their master is.
fn detail_link<'o>(schema: &Schema, object: &'o ObjectDef) -> Option<&'o str> {
    if let Some(link) = object.history_parent.as_deref() {
        return Some(link);
    }
    if object.owned || crate::access::SECURITY_OBJECTS.contains(&object.name.as_str()) {
        return None;
    }
    object
        .fields
        .iter()
        .find(|f| {
            f.field_type == FieldType::Reference
                && f.required
                && f.cascade_delete
                && f.reference_to
                    .iter()
                    .filter_map(|t| schema.object(t))
                    .any(|master| master.owned)
        })
        .map(|f| f.name.as_str())
}

/// The lookups a record controlled by its parent follows: the account of a contact, the
/// related record and person of an activity.
fn parent_lookups(object: &ObjectDef) -> Vec<&model::FieldDef> {
    object
        .fields
        .iter()
        .filter(|f| {
            f.field_type == FieldType::Reference
                && matches!(
                    f.name.as_str(),
                    "AccountId" | "WhatId" | "WhoId" | "ParentId"
                )
        })
        .collect()
}

/// `SELECT Id FROM object WHERE condition`, nested in another plan.
fn id_plan(object: &std::sync::Arc<ObjectDef>, filter: Option<Cond>, depth: u8) -> QueryPlan {
    let id = object.field("Id").cloned();
    QueryPlan {
        sources: vec![Source {
            object: object.clone(),
            parent_of: None,
            visible: None,
        }],
        columns: id
            .map(|field| vec![Column { source: 0, field }])
            .unwrap_or_default(),
        filter,
        order: Vec::new(),
        limit: None,
        offset: None,
        deleted: Deleted::Include,
        alias_base: 60 + usize::from(depth) * 10,
        search: None,
        shared: None,
    }
}

impl App {
    /// Who `user` sees records of: themselves, the users in the roles below theirs and the
    /// queues and groups they are in; and the sharing rules that reach them. Read from the
    /// same sharing graph the share rows are computed from (`shares`), so the two agree.
    pub(crate) async fn load_record_access(
        &self,
        user: &RecordId,
        sees_everything: bool,
    ) -> Result<RecordAccess> {
        let defaults = self.sharing_defaults().await?;
        if sees_everything {
            return Ok(RecordAccess {
                user: None,
                owners: None,
                defaults,
                rules: Vec::new(),
            });
        }
        let graph = self.current_share_graph().await?;
        let mut owners = vec![user.clone()];
        owners.extend(graph.users_below(user));
        owners.extend(graph.groups_of(user));
        let rules = graph
            .rules_reaching(user)
            .map(|rule| Grant {
                object: rule.object.clone(),
                edit: rule.edit,
                records: match &rule.records {
                    crate::shares::RuleRecords::OwnedBy(users) => {
                        GrantRecords::OwnedBy(users.iter().cloned().collect())
                    }
                    crate::shares::RuleRecords::Matching(cond) => {
                        GrantRecords::Matching(cond.clone())
                    }
                },
            })
            .collect();
        Ok(RecordAccess {
            user: Some(user.clone()),
            owners: Some(owners),
            defaults,
            rules,
        })
    }

    /// The organisation-wide defaults set by an administrator (objects not named keep
    /// `Sharing::default_for`), by lowercase object name.
    pub(crate) async fn sharing_defaults(&self) -> Result<HashMap<String, Sharing>> {
        let mut defaults = HashMap::new();
        for (name, value) in self.store().settings_with_prefix(SETTING_PREFIX).await? {
            if let Some(sharing) = Sharing::parse(&value) {
                defaults.insert(name[SETTING_PREFIX.len()..].to_string(), sharing);
            }
        }
        Ok(defaults)
    }

    /// Adds a public group or a queue (`rapport group add NAME [--queue]`).
    pub async fn add_group(&self, caller: &Caller, name: &str, queue: bool) -> Result<RecordId> {
        self.require_admin(caller).await?;
        if self.id_by_name("Group", name).await?.is_some() {
            return Err(AppError::on_field(
                ErrorCode::DuplicateValue,
                "Name",
                format!("a group named {name} already exists"),
            ));
        }
        let mut input = crate::records::RecordInput::new();
        input.insert("Name".into(), name.into());
        let developer: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        input.insert("DeveloperName".into(), developer.into());
        input.insert(
            "Type".into(),
            if queue { "Queue" } else { "Regular" }.into(),
        );
        let id = self.create(caller, "Group", input).await?;
        self.forget_access();
        Ok(id)
    }

    /// Adds a user (`member` is their login) or a public group (`member` is its name) to a
    /// group or queue (`rapport group member add GROUP MEMBER`).
    pub async fn add_group_member(&self, caller: &Caller, group: &str, member: &str) -> Result<()> {
        self.require_admin(caller).await?;
        let group_id = self.group_named(group).await?;
        let member = self.user_or_group(member, true).await?;
        let mut input = crate::records::RecordInput::new();
        input.insert("GroupId".into(), group_id.to_18().into());
        input.insert("UserOrGroupId".into(), member.to_18().into());
        self.create(caller, "GroupMember", input).await?;
        self.forget_access();
        Ok(())
    }

    /// Takes a user or group out of a group or queue (`rapport group member remove`).
    pub async fn remove_group_member(
        &self,
        caller: &Caller,
        group: &str,
        member: &str,
    ) -> Result<()> {
        self.require_admin(caller).await?;
        let group_id = self.group_named(group).await?;
        let member_id = self.user_or_group(member, true).await?;
        let found = self
            .find(
                caller,
                "GroupMember",
                &["Id"],
                Some(store::Filter::And(vec![
                    store::Filter::eq("GroupId", Value::Id(group_id)),
                    store::Filter::eq("UserOrGroupId", Value::Id(member_id)),
                ])),
                Vec::new(),
                None,
            )
            .await?;
        if found.is_empty() {
            return Err(AppError::one(
                ErrorCode::NotFound,
                format!("{member} is not a member of {group}"),
            ));
        }
        for membership in found.iter().filter_map(|m| m.id()) {
            self.delete(caller, &membership.to_18()).await?;
        }
        self.forget_access();
        Ok(())
    }

    async fn group_named(&self, name: &str) -> Result<RecordId> {
        Ok(self
            .group_and_kind(name)
            .await?
            .ok_or_else(|| no_group(name))?
            .0)
    }

    /// A group (public group or queue) by name, case-insensitively, and whether it is a
    /// queue; `None` when no group has the name. Names are not unique through the API, so a
    /// name two groups share is refused rather than guessed.
    async fn group_and_kind(&self, name: &str) -> Result<Option<(RecordId, bool)>> {
        let named: Vec<(RecordId, bool)> = self
            .find(
                &Caller::system(),
                "Group",
                &["Id", "Name", "Type"],
                None,
                Vec::new(),
                None,
            )
            .await?
            .into_iter()
            .filter(|g| {
                g.get("Name")
                    .and_then(Value::as_text)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.trim()))
            })
            .filter_map(|g| {
                let queue = g.get("Type").and_then(Value::as_text) == Some("Queue");
                g.id().cloned().map(|id| (id, queue))
            })
            .collect();
        match named.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            _ => Err(AppError::one(
                ErrorCode::DuplicateValue,
                format!("several groups are named {name}: rename one first"),
            )),
        }
    }

    /// A user by login (anything with an `@`) or a public group by name (a queue is
    /// refused where `queues` is false: records are shared with people and public groups).
    async fn user_or_group(&self, name: &str, queues: bool) -> Result<RecordId> {
        if !name.contains('@') {
            let (group, queue) = self
                .group_and_kind(name)
                .await?
                .ok_or_else(|| no_group(name))?;
            if queue && !queues {
                return Err(AppError::one(
                    ErrorCode::FieldIntegrityException,
                    format!("{name} is a queue: share with a user or a public group"),
                ));
            }
            return Ok(group);
        }
        self.user_id_by_email(name).await?.ok_or_else(|| {
            AppError::one(
                ErrorCode::NotFound,
                format!("no user with the login {name}"),
            )
        })
    }

    /// The sharing rules as stored (every object's when `object` is `None`): names as they
    /// were when each rule was added.
    pub(crate) async fn stored_sharing_rules(
        &self,
        object: Option<&str>,
    ) -> Result<Vec<SharingRule>> {
        let prefix = match object {
            Some(object) => format!("{RULE_PREFIX}{}:", object.to_ascii_lowercase()),
            None => RULE_PREFIX.to_string(),
        };
        Ok(self
            .store()
            .settings_with_prefix(&prefix)
            .await?
            .into_iter()
            .filter_map(|(_, json)| serde_json::from_str(&json).ok())
            .collect())
    }

    /// The sharing rules of an object (every object's when `None`), naming the roles and
    /// groups they follow as they are named now.
    pub async fn sharing_rules(&self, object: Option<&str>) -> Result<Vec<SharingRule>> {
        let mut rules = self.stored_sharing_rules(object).await?;
        if rules.is_empty() {
            return Ok(rules);
        }
        // Each rule shows the current names of the records it follows.
        let mut names: HashMap<String, String> = HashMap::new();
        for object in ["UserRole", "Group"] {
            for (id, name) in self.names(object).await? {
                names.insert(id.to_18(), name);
            }
        }
        let current = |name: &mut Option<String>, id: &Option<String>| {
            if let Some(now) = id.as_ref().and_then(|id| names.get(id)) {
                *name = Some(now.clone());
            }
        };
        for rule in &mut rules {
            current(&mut rule.owned_by_role, &rule.targets.owned_by_role);
            current(&mut rule.share_with_role, &rule.targets.share_with_role);
            current(&mut rule.share_with_group, &rule.targets.share_with_group);
        }
        Ok(rules)
    }

    /// A criteria rule's condition: a SOQL WHERE on the object's own fields, compiled as a
    /// query would be (without any caller's field-level security: rules are the admin's).
    pub(crate) async fn compile_criteria(&self, object: &str, criteria: &str) -> Result<Cond> {
        let schema = self.schema().await?;
        let root = crate::query::object_named(&schema, object)?;
        let text = format!("SELECT Id FROM {} WHERE {criteria}", root.name);
        let plan = crate::query::plan_for_rule(self, &schema, &root, &text).await?;
        if plan.sources.len() > 1 {
            return Err(AppError::one(
                ErrorCode::InvalidField,
                "a sharing rule's criteria use the object's own fields, not parent paths",
            ));
        }
        plan.filter
            .ok_or_else(|| AppError::one(ErrorCode::MalformedQuery, "the criteria are empty"))
    }

    /// Adds (or replaces) a sharing rule (`rapport sharing rule add`).
    pub async fn add_sharing_rule(&self, caller: &Caller, rule: SharingRule) -> Result<()> {
        self.require_admin(caller).await?;
        let schema = self.schema().await?;
        let object = crate::query::object_named(&schema, &rule.object)?;
        let sharing = self.access(caller).await?.records.sharing(&object);
        if sharing == Sharing::ControlledByParent || !object.owned {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!(
                    "{} records follow their parent: sharing rules do not apply",
                    object.name
                ),
            ));
        }
        if !matches!(rule.access.as_str(), "read" | "edit") {
            return Err(AppError::one(
                ErrorCode::InvalidField,
                format!("unknown access '{}': use read or edit", rule.access),
            ));
        }
        let mut targets = RuleTargets::default();
        match (&rule.share_with_role, &rule.share_with_group) {
            (Some(_), None) => {}
            (None, Some(group)) => match self.group_and_kind(group).await? {
                Some((id, false)) => targets.share_with_group = Some(id.to_18()),
                Some((_, true)) => {
                    return Err(AppError::one(
                        ErrorCode::FieldIntegrityException,
                        format!(
                            "{group} is a queue: sharing rules share with roles and public groups"
                        ),
                    ));
                }
                None => {
                    return Err(AppError::one(
                        ErrorCode::InvalidCrossReferenceKey,
                        format!("no group named {group}"),
                    ));
                }
            },
            _ => {
                return Err(AppError::one(
                    ErrorCode::InvalidOperation,
                    "a sharing rule shares with a role (--share-with-role) or a group (--share-with-group)",
                ));
            }
        }
        let role_id = |name: &str| {
            let name = name.to_string();
            async move {
                match self.id_by_name("UserRole", &name).await? {
                    Some(id) => Ok(id.to_18()),
                    None => Err(AppError::one(
                        ErrorCode::InvalidCrossReferenceKey,
                        format!("no role named {name}"),
                    )),
                }
            }
        };
        if let Some(role) = &rule.owned_by_role {
            targets.owned_by_role = Some(role_id(role).await?);
        }
        if let Some(role) = &rule.share_with_role {
            targets.share_with_role = Some(role_id(role).await?);
        }
        match (&rule.owned_by_role, &rule.criteria) {
            (Some(_), None) => {}
            (None, Some(criteria)) => {
                self.compile_criteria(&object.name, criteria).await?;
            }
            _ => {
                return Err(AppError::one(
                    ErrorCode::InvalidOperation,
                    "a sharing rule shares either records owned by a role (--owned-by-role) or records matching criteria (--where)",
                ));
            }
        }
        let mut rule = rule;
        rule.object = object.name.clone();
        rule.targets = targets;
        let json = serde_json::to_string(&rule).unwrap_or_default();
        self.store()
            .set_security_setting(
                &format!(
                    "{RULE_PREFIX}{}:{}",
                    object.name.to_ascii_lowercase(),
                    rule.name.to_ascii_lowercase()
                ),
                &json,
            )
            .await?;
        self.forget_access();
        Ok(())
    }

    /// Removes a sharing rule; false when there was none of that name.
    pub async fn remove_sharing_rule(
        &self,
        caller: &Caller,
        object: &str,
        name: &str,
    ) -> Result<bool> {
        self.require_admin(caller).await?;
        let removed = self
            .store()
            .remove_security_setting(&format!(
                "{RULE_PREFIX}{}:{}",
                object.to_ascii_lowercase(),
                name.to_ascii_lowercase()
            ))
            .await?;
        self.forget_access();
        Ok(removed)
    }

    async fn require_admin(&self, caller: &Caller) -> Result<()> {
        if caller.user_id.is_some() && !self.access(caller).await?.modifies_all_data() {
            return Err(AppError::one(
                ErrorCode::InsufficientAccessOrReadonly,
                "only an administrator (Modify All Data) manages sharing",
            ));
        }
        Ok(())
    }

    /// Restricts a plan to the records the caller may read: its root's rows, its joined
    /// parents (hidden ones read as null), and its semi-joins.
    pub(crate) async fn restrict_plan(&self, caller: &Caller, plan: &mut QueryPlan) -> Result<()> {
        if caller.user_id.is_none() {
            return Ok(());
        }
        let access = self.access(caller).await?;
        let schema = self.schema().await?;
        let ready = self.shares_ready().await?;
        restrict(&schema, &access, &ready, plan);
        Ok(())
    }

    /// Restricts a child subquery's plan: its rows are a few parents' children, found through
    /// the lookup's index, so the share rows are probed for them rather than joined (a join
    /// would walk every record the user may read to find a parent's few).
    pub(crate) async fn restrict_child_plan(
        &self,
        caller: &Caller,
        plan: &mut QueryPlan,
    ) -> Result<()> {
        self.restrict_plan(caller, plan).await?;
        if let Some(with) = plan.shared.take()
            && let Some(id) = plan.sources.first().and_then(|s| s.object.field("Id"))
        {
            let probe = Cond::Shared {
                column: store::query::Column {
                    source: 0,
                    field: id.clone(),
                },
                with,
            };
            plan.filter = Some(match plan.filter.take() {
                Some(filter) => Cond::And(vec![filter, probe]),
                None => probe,
            });
        }
        Ok(())
    }

    /// Answers `NOT_FOUND` for records the caller may not see (as if they did not exist).
    pub(crate) async fn require_readable(
        &self,
        tx: Option<&mut store::Tx>,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<()> {
        match self.allowed(tx, caller, object, ids, Want::Read).await? {
            Some(allowed) if !ids.iter().all(|id| allowed.contains(id)) => Err(AppError::one(
                ErrorCode::NotFound,
                "The requested resource does not exist",
            )),
            _ => Ok(()),
        }
    }

    /// Refuses to edit (or delete) records of `object` the caller may not edit.
    /// Inside the write's transaction when there is one, so records it created are seen.
    pub(crate) async fn require_editable(
        &self,
        tx: Option<&mut store::Tx>,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<()> {
        first_refusal(ids, &self.refused_edits(tx, caller, object, ids).await?)
    }

    /// The records of `ids` the caller may not edit, each with its error (a bulk write
    /// reports them per record).
    pub(crate) async fn refused_edits(
        &self,
        tx: Option<&mut store::Tx>,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<HashMap<RecordId, model::RecordError>> {
        let Some(editable) = self.allowed(tx, caller, object, ids, Want::Edit).await? else {
            return Ok(HashMap::new());
        };
        Ok(ids
            .iter()
            .filter(|id| !editable.contains(id))
            .map(|id| {
                let error = model::RecordError::new(
                    ErrorCode::InsufficientAccessOrReadonly,
                    format!(
                        "insufficient access rights on object id: you may not change {} {}",
                        object.name,
                        id.to_18()
                    ),
                );
                (id.clone(), error)
            })
            .collect())
    }

    /// Refuses to change the owner of records the caller neither owns nor has above them in
    /// the role hierarchy, unless their profile may transfer any record (Salesforce's
    /// Transfer Record) or modify all of the object's.
    pub(crate) async fn require_transferable(
        &self,
        tx: Option<&mut store::Tx>,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<()> {
        first_refusal(ids, &self.refused_transfers(tx, caller, object, ids).await?)
    }

    /// The records of `ids` whose owner the caller may not change, each with its error.
    pub(crate) async fn refused_transfers(
        &self,
        tx: Option<&mut store::Tx>,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<HashMap<RecordId, model::RecordError>> {
        if caller.user_id.is_none() || ids.is_empty() {
            return Ok(HashMap::new());
        }
        let access = self.access(caller).await?;
        if access.transfers_any(object) {
            return Ok(HashMap::new());
        }
        let Some(owners) = access.records.owners.clone() else {
            return Ok(HashMap::new());
        };
        let Some(owned) = access.records.owner_in(object, 0, &owners) else {
            return Ok(HashMap::new());
        };
        let mine = self.ids_matching(tx, object, ids, owned).await?;
        Ok(ids
            .iter()
            .filter(|id| !mine.contains(id))
            .map(|id| {
                let error = model::RecordError::on_field(
                    ErrorCode::InsufficientAccessOrReadonly,
                    "OwnerId",
                    format!(
                        "insufficient access rights: only the owner, someone above them in the role hierarchy or a user with Transfer Record may change the owner of {} {}",
                        object.name,
                        id.to_18()
                    ),
                );
                (id.clone(), error)
            })
            .collect())
    }

    /// Whether the caller may share a record by hand (as `share_record` decides): its owner,
    /// someone above them, or an administrator.
    pub async fn may_share(&self, caller: &Caller, object: &str, id: &RecordId) -> Result<bool> {
        let schema = self.schema().await?;
        let Some(object) = schema.object(object) else {
            return Ok(false);
        };
        let refused = self
            .refused_transfers(None, caller, object, std::slice::from_ref(id))
            .await?;
        Ok(refused.is_empty())
    }

    /// Shares one record by hand (`rapport share`) with a user (`with` is their login) or
    /// a public group (`with` is its name): the owner, someone above them, or an
    /// administrator may. `access` is read or edit (sharing again replaces it), or none to
    /// take a share away.
    pub async fn share_record(
        &self,
        caller: &Caller,
        record: &str,
        with: &str,
        access: &str,
    ) -> Result<()> {
        let level = match access.to_ascii_lowercase().as_str() {
            "read" => Some("Read"),
            "edit" => Some("Edit"),
            "none" => None,
            _ => {
                return Err(AppError::one(
                    ErrorCode::InvalidField,
                    format!("unknown access '{access}': use read, edit or none"),
                ));
            }
        };
        let id = RecordId::parse(record)
            .map_err(|_| AppError::one(ErrorCode::MalformedId, format!("invalid id: {record}")))?;
        let schema = self.schema().await?;
        let object = schema
            .object_by_prefix(id.key_prefix())
            .cloned()
            .ok_or_else(|| AppError::one(ErrorCode::NotFound, "no such record"))?;
        self.require_readable(None, caller, &object, std::slice::from_ref(&id))
            .await?;
        self.require_transferable(None, caller, &object, std::slice::from_ref(&id))
            .await
            .map_err(|_| {
                AppError::one(
                    ErrorCode::InsufficientAccessOrReadonly,
                    format!(
                        "only the owner of {} {}, someone above them or an administrator may share it",
                        object.name,
                        id.to_18()
                    ),
                )
            })?;
        let user = self.user_or_group(with, false).await?;
        let system = Caller::system();
        let existing = self
            .find(
                &system,
                "RecordShare",
                &["Id"],
                Some(store::Filter::And(vec![
                    store::Filter::eq("RecordId", Value::Text(id.as_str15().to_string())),
                    store::Filter::eq("UserOrGroupId", Value::Id(user.clone())),
                ])),
                Vec::new(),
                Some(1),
            )
            .await?;
        let existing = existing.first().and_then(|r| r.id().cloned());
        let Some(level) = level else {
            return match existing {
                Some(share) => self.delete(&system, &share.to_18()).await,
                None => Err(AppError::one(
                    ErrorCode::NotFound,
                    format!("{} is not shared by hand with {with}", id.to_18()),
                )),
            };
        };
        let mut input = crate::records::RecordInput::new();
        input.insert("RecordId".into(), id.as_str15().into());
        input.insert("UserOrGroupId".into(), user.to_18().into());
        input.insert("AccessLevel".into(), level.into());
        self.write_permission(&system, "RecordShare", existing, input)
            .await
    }

    /// Which of `ids` the caller may read; `None` when all of them.
    pub(crate) async fn readable_ids(
        &self,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<Option<HashSet<RecordId>>> {
        self.allowed(None, caller, object, ids, Want::Read).await
    }

    /// Which of `ids` the caller may read, inside `tx`; `None` when all of them.
    pub(crate) async fn readable_ids_in(
        &self,
        tx: &mut store::Tx,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<Option<HashSet<RecordId>>> {
        self.allowed(Some(tx), caller, object, ids, Want::Read)
            .await
    }

    /// Which of `ids` the caller may read or edit; `None` when all of them.
    async fn allowed(
        &self,
        tx: Option<&mut store::Tx>,
        caller: &Caller,
        object: &ObjectDef,
        ids: &[RecordId],
        want: Want,
    ) -> Result<Option<HashSet<RecordId>>> {
        if caller.user_id.is_none() || ids.is_empty() {
            return Ok(None);
        }
        let access = self.access(caller).await?;
        let schema = self.schema().await?;
        let ready = self.shares_ready().await?;
        let Some(condition) = access
            .records
            .condition(&schema, &access, &ready, object, 0, want, 0)
        else {
            return Ok(None);
        };
        self.ids_matching(tx, object, ids, condition)
            .await
            .map(Some)
    }

    /// Which of `ids` match `condition` (a condition on source 0), inside `tx` when given.
    async fn ids_matching(
        &self,
        tx: Option<&mut store::Tx>,
        object: &ObjectDef,
        ids: &[RecordId],
        condition: Cond,
    ) -> Result<HashSet<RecordId>> {
        let Some(id_field) = object.field("Id").cloned() else {
            return Ok(HashSet::new());
        };
        let mut plan = id_plan(&std::sync::Arc::new(object.clone()), None, 0);
        plan.alias_base = 0;
        plan.filter = Some(Cond::And(vec![
            Cond::In {
                column: Column {
                    source: 0,
                    field: id_field,
                },
                values: ids.iter().cloned().map(Value::Id).collect(),
            },
            condition,
        ]));
        let rows = match tx {
            Some(tx) => store::Store::query_rows_in(tx, &plan).await?,
            None => self.store().query_rows(&plan).await?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|row| row.first().and_then(Value::as_id).cloned())
            .collect())
    }

    /// Sets an object's organisation-wide default (`rapport sharing default`). Only a user
    /// who may modify all data may.
    pub async fn set_sharing_default(
        &self,
        caller: &Caller,
        object: &str,
        level: &str,
    ) -> Result<Sharing> {
        let access = self.access(caller).await?;
        if caller.user_id.is_some() && !access.modifies_all_data() {
            return Err(AppError::one(
                ErrorCode::InsufficientAccessOrReadonly,
                "only an administrator (Modify All Data) sets organisation-wide defaults",
            ));
        }
        let sharing = Sharing::parse(level).ok_or_else(|| {
            let names: Vec<&str> = Sharing::NAMES.iter().map(|(n, _)| *n).collect();
            AppError::one(
                ErrorCode::InvalidField,
                format!("unknown sharing level '{level}': use {}", names.join(", ")),
            )
        })?;
        let schema = self.schema().await?;
        let object = crate::query::object_named(&schema, object)?;
        if !object.owned {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!(
                    "{} records have no owner: sharing does not apply",
                    object.name
                ),
            ));
        }
        if sharing == Sharing::ControlledByParent && parent_lookups(&object).is_empty() {
            return Err(AppError::one(
                ErrorCode::InvalidOperation,
                format!("{} has no parent record to be controlled by", object.name),
            ));
        }
        self.store()
            .set_security_setting(
                &format!("{SETTING_PREFIX}{}", object.name.to_ascii_lowercase()),
                sharing.name(),
            )
            .await?;
        self.forget_access();
        Ok(sharing)
    }
}

/// The error of the first of `ids` that was refused, if any.
fn first_refusal(ids: &[RecordId], refused: &HashMap<RecordId, model::RecordError>) -> Result<()> {
    match ids.iter().find_map(|id| refused.get(id)) {
        None => Ok(()),
        Some(error) => Err(AppError::Rejected(vec![error.clone()])),
    }
}

/// Adds the read conditions to a plan and to every plan nested in its filter.
fn restrict(schema: &Schema, access: &Access, ready: &HashSet<String>, plan: &mut QueryPlan) {
    // A full-text search drives from the index's matches: joining the share rows would let the
    // planner run the match once per share row instead (minutes on a common term).
    let searching = plan.search.is_some();
    if let Some(filter) = &mut plan.filter {
        restrict_nested(schema, access, ready, filter);
    }
    for (i, source) in plan.sources.iter_mut().enumerate() {
        let condition =
            access
                .records
                .condition(schema, access, ready, &source.object, i, Want::Read, 0);
        let condition = match (condition, hidden_history(schema, access, &source.object, i)) {
            (Some(a), Some(b)) => Some(Cond::And(vec![a, b])),
            (a, b) => a.or(b),
        };
        if i == 0 {
            if let Some(Cond::Shared { with, column }) = &condition
                && column.field.field_type == FieldType::Id
                && !searching
            {
                // The root's own share rows (by its id; not a parent's, through a lookup):
                // joined, so that their index also gives order.
                plan.shared = Some(with.clone());
            } else if let Some(condition) = condition {
                plan.filter = Some(match plan.filter.take() {
                    Some(filter) => Cond::And(vec![filter, condition]),
                    None => condition,
                });
            }
        } else {
            source.visible = condition;
        }
    }
}

/// On a field-history object, the rows of fields the caller may not see are not there:
/// `Field NOT IN (hidden fields of the parent object)`.
fn hidden_history(
    schema: &Schema,
    access: &Access,
    object: &ObjectDef,
    source: usize,
) -> Option<Cond> {
    let link = object.field(object.history_parent.as_deref()?)?;
    let field = object.field("Field")?.clone();
    let hidden: Vec<Value> = link
        .reference_to
        .iter()
        .filter_map(|parent| schema.object(parent))
        .flat_map(|parent| access.fields.hidden_in(&parent.name))
        .map(Value::Text)
        .collect();
    if hidden.is_empty() {
        return None;
    }
    Some(Cond::Not(Box::new(Cond::In {
        column: Column { source, field },
        values: hidden,
    })))
}

fn restrict_nested(schema: &Schema, access: &Access, ready: &HashSet<String>, cond: &mut Cond) {
    match cond {
        Cond::InQuery { plan, .. } => restrict(schema, access, ready, plan),
        Cond::And(parts) | Cond::Or(parts) => {
            for part in parts {
                restrict_nested(schema, access, ready, part);
            }
        }
        Cond::Not(inner) => restrict_nested(schema, access, ready, inner),
        _ => {}
    }
}
