//! Materialised sharing: for each object whose default is Private, the users who may read
//! each record are kept as share rows (`store::shares`), so a rep's list view reads the rep's
//! records through one index, as fast as an administrator's (issue 5's scale target).
//!
//! The rows are an accelerator, never the authority. `sharing` states the rules as
//! conditions; this module computes the same answer per record ("who may read it") and:
//! - keeps the rows in step with every record write, in the write's own transaction: the
//!   record itself, the account of a contact/opportunity/case (implicit sharing), the record
//!   a manual share points to;
//! - rebuilds an object's rows in the background after anything that moves the sharing
//!   version (roles, a user's role, groups, rules, defaults). Until an object's rows are built for
//!   the current sharing version, reads use the conditions, so a change takes effect at
//!   once; a restart simply finds the rows stale and rebuilds them again.
//!
//! Writes compute readers against the sharing version read inside their transaction
//! (held there on PostgreSQL), so a row is never written for sharing that a concurrent
//! change has replaced without the rebuild that follows that change seeing it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::{ObjectDef, RecordId, Schema, Value};
use store::Tx;
use store::query::{Column, Cond, QueryPlan, Source};
use store::shares::Readers;

use crate::sharing::Sharing;
use crate::{App, AppError, Caller, Result};

/// Records per rebuild transaction.
const REBUILD_BATCH: usize = 2000;

/// The lease of the servers' periodic rebuild, and how long it lasts without renewal (a
/// batch renews it; a holder that died frees it after this long).
const REBUILD_LEASE_NAME: &str = "share rebuild";
/// How long a rebuild batch waits for a record a writer holds before it rolls back (freeing
/// the records it holds, which the writer may be waiting for) and tries again; and how
/// many times in a row it tries.
const REBUILD_LOCK_WAIT_MS: u32 = 100;
const REBUILD_LOCK_TRIES: u32 = 50;
const REBUILD_LEASE: Duration = Duration::from_secs(60);
/// How often a process re-reads which objects' rows are built (another process may have
/// built them).
const READY_RECHECK: Duration = Duration::from_millis(250);
/// Settings `shares:<object>` hold the sharing version an object's rows were built for;
/// `shares:@version` is the current one (`store::auth::SHARING_VERSION`).
const BUILT_PREFIX: &str = "shares:";
/// The current sharing version, among the built versions.
const CURRENT: &str = "@version";

/// Who may read records, as of one sharing version: the role tree, group members, the
/// sharing rules and the defaults.
#[derive(Debug, Default)]
pub(crate) struct ShareGraph {
    version: i64,
    defaults: HashMap<String, Sharing>,
    role_of: HashMap<RecordId, RecordId>,
    parent_of: HashMap<RecordId, RecordId>,
    users_in: HashMap<RecordId, Vec<RecordId>>,
    members: HashMap<RecordId, Vec<RecordId>>,
    rules: Vec<RuleReaders>,
}

/// Each group's users, through the groups inside it (at any depth): a group in a group
/// passes on everything shared with the outer group, as in Salesforce. `direct` holds each
/// group's own members, users and groups alike. A cycle (refused on write, but possible in
/// data from elsewhere) ends where it meets a group already visited.
fn users_of_groups(direct: &HashMap<RecordId, Vec<RecordId>>) -> HashMap<RecordId, Vec<RecordId>> {
    let mut users_of = HashMap::new();
    for group in direct.keys() {
        let mut users = Vec::new();
        let mut seen_users = HashSet::new();
        let mut visited = HashSet::from([group]);
        let mut pending = vec![group];
        while let Some(at) = pending.pop() {
            for member in direct.get(at).into_iter().flatten() {
                if member.key_prefix() == GROUP_PREFIX {
                    if visited.insert(member) {
                        pending.push(member);
                    }
                } else if seen_users.insert(member) {
                    users.push(member.clone());
                }
            }
        }
        users_of.insert(group.clone(), users);
    }
    users_of
}

/// The key prefix of Group ids (public groups and queues).
pub(crate) const GROUP_PREFIX: &str = "00G";

/// A sharing rule, resolved: which records it shares and with which users.
#[derive(Debug)]
pub(crate) struct RuleReaders {
    pub name: Arc<str>,
    /// Lower case.
    pub object: String,
    pub records: RuleRecords,
    pub readers: Vec<RecordId>,
    /// Read/write rather than read only.
    pub edit: bool,
}

#[derive(Debug)]
pub(crate) enum RuleRecords {
    OwnedBy(HashSet<RecordId>),
    Matching(Box<Cond>),
}

/// Why users may read a record (beside View All Data and Modify All Data, which read all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadReason {
    /// They own it, or are above its owner in the role hierarchy (or are the members of the
    /// queue that owns it).
    Owner(RecordId),
    /// They own a contact, opportunity or case of the account (implicit sharing), or are
    /// above that owner.
    Related { object: String, owner: RecordId },
    /// The owner shared it with this user or group (or a user above them).
    Manual(RecordId),
    /// A sharing rule, by name.
    Rule(Arc<str>),
}

/// Who may read a record and why.
#[derive(Debug, Clone)]
pub struct SharingExplained {
    /// The object's organisation-wide default.
    pub default: Sharing,
    /// Each reason, with the users it lets read the record (id and name): only for objects
    /// whose default is private (under any other default everyone reads).
    pub reasons: Vec<(ReadReason, Vec<(RecordId, String)>)>,
}

impl ShareGraph {
    fn sharing(&self, object: &ObjectDef) -> Sharing {
        self.defaults
            .get(&object.name.to_ascii_lowercase())
            .copied()
            .unwrap_or_else(|| Sharing::default_for(object))
    }

    /// Whether an object's read access is kept as share rows.
    pub(crate) fn materialised(&self, object: &ObjectDef) -> bool {
        object.owned
            && object.field("OwnerId").is_some()
            && self.sharing(object) == Sharing::Private
    }

    /// A role and the roles above it.
    fn role_and_ancestors(&self, role: &RecordId) -> Vec<RecordId> {
        let mut found = vec![role.clone()];
        let mut at = role;
        while let Some(parent) = self.parent_of.get(at) {
            if found.contains(parent) {
                break; // a cycle an administrator made: stop rather than loop
            }
            found.push(parent.clone());
            at = parent;
        }
        found
    }

    /// A role and the roles below it.
    fn role_and_subordinates(&self, role: &RecordId) -> HashSet<RecordId> {
        let mut found = HashSet::from([role.clone()]);
        let mut frontier = vec![role.clone()];
        while let Some(at) = frontier.pop() {
            for (child, parent) in &self.parent_of {
                if *parent == at && found.insert(child.clone()) {
                    frontier.push(child.clone());
                }
            }
        }
        found
    }

    fn users_in_roles<'a>(
        &'a self,
        roles: impl IntoIterator<Item = &'a RecordId>,
    ) -> Vec<RecordId> {
        roles
            .into_iter()
            .filter_map(|r| self.users_in.get(r))
            .flatten()
            .cloned()
            .collect()
    }

    /// The users in the roles below `user`'s (not their own role's).
    pub(crate) fn users_below(&self, user: &RecordId) -> Vec<RecordId> {
        let Some(role) = self.role_of.get(user) else {
            return Vec::new();
        };
        let mut below = self.role_and_subordinates(role);
        below.remove(role);
        self.users_in_roles(&below)
    }

    /// The users in a role and the roles below it.
    pub(crate) fn users_in_role_tree(&self, role: &RecordId) -> Vec<RecordId> {
        let roles = self.role_and_subordinates(role);
        self.users_in_roles(&roles)
    }

    /// The groups and queues `user` is a member of.
    pub(crate) fn groups_of(&self, user: &RecordId) -> Vec<RecordId> {
        self.members
            .iter()
            .filter(|(_, members)| members.contains(user))
            .map(|(group, _)| group.clone())
            .collect()
    }

    /// The sharing rules that share records with `user`.
    pub(crate) fn rules_reaching<'g>(
        &'g self,
        user: &'g RecordId,
    ) -> impl Iterator<Item = &'g RuleReaders> + 'g {
        self.rules.iter().filter(move |r| r.readers.contains(user))
    }

    /// Who reads what `owner` owns (or what is shared with `owner`): the user and the users
    /// in the roles above theirs; for a group or queue, its members.
    fn readers_of(&self, owner: &RecordId) -> Vec<RecordId> {
        if let Some(members) = self.members.get(owner) {
            return members.clone();
        }
        let mut readers = vec![owner.clone()];
        if let Some(role) = self.role_of.get(owner) {
            let above = self.role_and_ancestors(role);
            readers.extend(self.users_in_roles(above.iter().skip(1)));
        }
        readers
    }
}

/// Which objects' rows are built for which sharing version, as this process last read.
#[derive(Debug, Default)]
pub(crate) struct SharesState {
    /// This process's name as a holder of the rebuild lease.
    lease_holder: std::sync::OnceLock<String>,
    graph: Mutex<Option<Arc<ShareGraph>>>,
    built: Mutex<Option<(Instant, HashMap<String, i64>)>>,
    /// Share tables this process knows exist.
    tables: Mutex<HashSet<String>>,
}

impl App {
    /// The sharing graph for sharing version `version` (cached per version).
    async fn share_graph(&self, version: i64) -> Result<Arc<ShareGraph>> {
        if let Ok(cached) = self.shares.graph.lock()
            && let Some(graph) = cached.as_ref()
            && graph.version == version
        {
            return Ok(graph.clone());
        }
        let graph = Arc::new(Box::pin(self.load_share_graph(version)).await?);
        if let Ok(mut cached) = self.shares.graph.lock() {
            *cached = Some(graph.clone());
        }
        Ok(graph)
    }

    /// The sharing graph as the database has it now.
    pub(crate) async fn current_share_graph(&self) -> Result<Arc<ShareGraph>> {
        let version = self
            .store()
            .settings_with_prefix(store::auth::SHARING_VERSION)
            .await?
            .into_iter()
            .find(|(name, _)| name == store::auth::SHARING_VERSION)
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        self.share_graph(version).await
    }

    async fn load_share_graph(&self, version: i64) -> Result<ShareGraph> {
        let system = Caller::system();
        let mut graph = ShareGraph {
            version,
            defaults: self.sharing_defaults().await?,
            ..Default::default()
        };
        let id_of = |r: &crate::Record, f: &str| r.get(f).and_then(Value::as_id).cloned();
        let roles = self
            .find(
                &system,
                "UserRole",
                &["Id", "ParentRoleId", "Name"],
                None,
                Vec::new(),
                None,
            )
            .await?;
        for role in &roles {
            if let (Some(id), Some(parent)) = (role.id(), id_of(role, "ParentRoleId")) {
                graph.parent_of.insert(id.clone(), parent);
            }
        }
        for user in self
            .find(
                &system,
                "User",
                &["Id", "UserRoleId"],
                None,
                Vec::new(),
                None,
            )
            .await?
        {
            if let (Some(id), Some(role)) = (user.id(), id_of(&user, "UserRoleId")) {
                graph.role_of.insert(id.clone(), role.clone());
                graph.users_in.entry(role).or_default().push(id.clone());
            }
        }
        let mut direct: HashMap<RecordId, Vec<RecordId>> = HashMap::new();
        for member in self
            .find(
                &system,
                "GroupMember",
                &["GroupId", "UserOrGroupId"],
                None,
                Vec::new(),
                None,
            )
            .await?
        {
            if let (Some(group), Some(member)) =
                (id_of(&member, "GroupId"), id_of(&member, "UserOrGroupId"))
            {
                direct.entry(group).or_default().push(member);
            }
        }
        graph.members = users_of_groups(&direct);
        // Groups by lower-cased name, for the rules that name them.
        let mut groups: HashMap<String, Vec<RecordId>> = HashMap::new();
        for (id, name) in self.names("Group").await? {
            groups
                .entry(name.trim().to_lowercase())
                .or_default()
                .push(id);
        }
        // A rule's role: by the id it recorded (a role since deleted matches none), or by
        // name for a rule from before ids were recorded.
        let role_of = |id: &Option<String>, name: &str| match id {
            Some(id) => RecordId::parse(id)
                .ok()
                .filter(|id| roles.iter().any(|r| r.id() == Some(id))),
            // A name several roles have come to share matches none: a guess could share
            // with the wrong people.
            None => {
                let mut named = roles.iter().filter(|r| {
                    r.get("Name")
                        .and_then(Value::as_text)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                });
                match (named.next(), named.next()) {
                    (Some(role), None) => role.id().cloned(),
                    _ => None,
                }
            }
        };
        // By the ids rules recorded (or, for older rules, their stored names).
        for rule in self.stored_sharing_rules(None).await? {
            let readers = match (&rule.share_with_role, &rule.share_with_group) {
                (Some(role), _) => {
                    let Some(with) = role_of(&rule.targets.share_with_role, role) else {
                        continue;
                    };
                    // The role, the roles above it (the hierarchy passes access up), and
                    // with subordinates the roles below it.
                    let mut roles: HashSet<RecordId> =
                        graph.role_and_ancestors(&with).into_iter().collect();
                    if rule.share_with_subordinates {
                        roles.extend(graph.role_and_subordinates(&with));
                    }
                    graph.users_in_roles(&roles)
                }
                // A name two groups have come to share since the rule was made shares with
                // nobody: guessing which group was meant could share with the wrong people.
                // (Rules made before queues were refused keep sharing with the queue.)
                (None, Some(_)) if rule.targets.share_with_group.is_some() => rule
                    .targets
                    .share_with_group
                    .as_deref()
                    .and_then(|id| RecordId::parse(id).ok())
                    .and_then(|id| graph.members.get(&id).cloned())
                    .unwrap_or_default(),
                (None, Some(group)) => match groups.get(&group.trim().to_lowercase()) {
                    Some(ids) if ids.len() == 1 => {
                        graph.members.get(&ids[0]).cloned().unwrap_or_default()
                    }
                    Some(_) => {
                        tracing::warn!(rule = %rule.name, %group, "several groups have this sharing rule's group name: it shares with nobody");
                        continue;
                    }
                    None => continue,
                },
                (None, None) => continue,
            };
            let records = match (&rule.owned_by_role, &rule.criteria) {
                (Some(role), _) => {
                    let Some(from) = role_of(&rule.targets.owned_by_role, role) else {
                        continue;
                    };
                    let roles = if rule.include_subordinates {
                        graph.role_and_subordinates(&from)
                    } else {
                        HashSet::from([from])
                    };
                    RuleRecords::OwnedBy(graph.users_in_roles(&roles).into_iter().collect())
                }
                (None, Some(criteria)) => match self.compile_criteria(&rule.object, criteria).await
                {
                    Ok(cond) => RuleRecords::Matching(Box::new(cond)),
                    Err(_) => continue,
                },
                (None, None) => continue,
            };
            graph.rules.push(RuleReaders {
                name: Arc::from(rule.name.as_str()),
                object: rule.object.to_ascii_lowercase(),
                records,
                readers,
                edit: rule.access == "edit",
            });
        }
        Ok(graph)
    }

    /// Who may read each of `ids` (records of a materialised object), computed inside `tx`.
    async fn readers(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        graph: &ShareGraph,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<Vec<Readers>> {
        // Each record's facts, and who reads it.
        let mut readers: HashMap<RecordId, (store::shares::RecordFacts, HashSet<RecordId>)> =
            HashMap::new();
        let mut owner_of: HashMap<RecordId, RecordId> = HashMap::new();
        for record in store::shares::owners(tx, object, ids).await? {
            let mut users = HashSet::new();
            if let Some(owner) = &record.owner {
                users.extend(graph.readers_of(owner));
                owner_of.insert(record.id.clone(), owner.clone());
            }
            readers.insert(record.id.clone(), (record, users));
        }
        self.shared_readers(
            tx,
            schema,
            graph,
            object,
            ids,
            &owner_of,
            |record, _, users| {
                if let Some((_, set)) = readers.get_mut(record) {
                    set.extend(users);
                }
            },
        )
        .await?;
        Ok(readers
            .into_values()
            .map(|(mut record, users)| {
                // A queue's members read its records, but do not own them.
                record.owner = record.owner.filter(|owner| users.contains(owner));
                Readers {
                    record,
                    users: users.into_iter().collect(),
                }
            })
            .collect())
    }

    /// Who reads records of a materialised object other than their owners and those above
    /// them, and why: the owners of an account's contacts, opportunities and cases (implicit
    /// sharing), manual shares, sharing rules. `add(record, reason, users)` for each.
    #[allow(clippy::too_many_arguments)]
    async fn shared_readers(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        graph: &ShareGraph,
        object: &ObjectDef,
        ids: &[RecordId],
        owner_of: &HashMap<RecordId, RecordId>,
        mut add: impl FnMut(&RecordId, ReadReason, Vec<RecordId>) + Send,
    ) -> Result<()> {
        // Implicit sharing: the owners of an account's contacts, opportunities and cases.
        for child in implicit_children(schema, object) {
            let (Some(link), Some(owner)) = (child.field("AccountId"), child.field("OwnerId"))
            else {
                continue;
            };
            for (account, owner) in store::shares::pairs(tx, child, link, owner, ids).await? {
                let reason = ReadReason::Related {
                    object: child.name.clone(),
                    owner: owner.clone(),
                };
                add(&account, reason, graph.readers_of(&owner));
            }
        }
        // Manual shares.
        if let Some(shares) = schema.object("RecordShare")
            && let (Some(record), Some(with)) =
                (shares.field("RecordId"), shares.field("UserOrGroupId"))
        {
            for (id, with) in store::shares::pairs(tx, shares, record, with, ids).await? {
                add(
                    &id,
                    ReadReason::Manual(with.clone()),
                    graph.readers_of(&with),
                );
            }
        }
        // Sharing rules.
        let name = object.name.to_ascii_lowercase();
        for rule in graph.rules.iter().filter(|r| r.object == name) {
            let matching: Vec<RecordId> = match &rule.records {
                RuleRecords::OwnedBy(owners) => owner_of
                    .iter()
                    .filter(|(_, owner)| owners.contains(*owner))
                    .map(|(id, _)| id.clone())
                    .collect(),
                RuleRecords::Matching(cond) => {
                    matching_ids(tx, object, ids, cond.as_ref().clone()).await?
                }
            };
            for id in matching {
                add(
                    &id,
                    ReadReason::Rule(rule.name.clone()),
                    rule.readers.clone(),
                );
            }
        }
        Ok(())
    }

    /// Who may read one record and why, for a caller who may read it.
    pub async fn explain_sharing(
        &self,
        caller: &Caller,
        object: &str,
        id: &str,
    ) -> Result<SharingExplained> {
        // Reading it first: the answer is only for those who may see the record.
        let record = self
            .get(caller, object, id, Some(&["Id".to_string()]))
            .await?;
        let Some(id) = record.id().cloned() else {
            return Err(crate::AppError::one(
                model::ErrorCode::NotFound,
                "The requested resource does not exist",
            ));
        };
        let schema = self.schema().await?;
        let object = record.object.clone();
        let graph = self.current_share_graph().await?;
        let default = graph.sharing(&object);
        let mut reasons: Vec<(ReadReason, Vec<RecordId>)> = Vec::new();
        if object.owned && default == Sharing::Private {
            let mut tx = self.store().begin().await?;
            let ids = std::slice::from_ref(&id);
            let mut owner_of = HashMap::new();
            for record in store::shares::owners(&mut tx, &object, ids).await? {
                if let Some(owner) = record.owner {
                    reasons.push((ReadReason::Owner(owner.clone()), graph.readers_of(&owner)));
                    owner_of.insert(record.id, owner);
                }
            }
            self.shared_readers(
                &mut tx,
                &schema,
                &graph,
                &object,
                ids,
                &owner_of,
                |_, reason, users| {
                    reasons.push((reason, users));
                },
            )
            .await?;
            // Read only: dropping the transaction rolls it back.
            drop(tx);
        }
        let mut everyone: Vec<String> = reasons
            .iter()
            .flat_map(|(_, users)| users.iter().map(|u| format!("'{}'", u.to_18())))
            .collect();
        everyone.sort();
        everyone.dedup();
        let mut names: HashMap<RecordId, String> = HashMap::new();
        for chunk in everyone.chunks(200) {
            let soql = format!(
                "SELECT Id, Name FROM User WHERE Id IN ({})",
                chunk.join(", ")
            );
            let page = self
                .query(
                    &Caller::system(),
                    &soql,
                    crate::query::QueryOptions::default(),
                )
                .await?;
            for row in page.rows {
                let name = row.cells.iter().find_map(|(n, c)| match c {
                    crate::query::Cell::Value(Value::Text(t)) if &**n == "Name" => Some(t.clone()),
                    _ => None,
                });
                if let (Some(id), Some(name)) = (row.id, name) {
                    names.insert(id, name);
                }
            }
        }
        Ok(SharingExplained {
            default,
            reasons: reasons
                .into_iter()
                .map(|(reason, users)| {
                    let mut named: Vec<(RecordId, String)> = users
                        .into_iter()
                        .map(|u| {
                            let name = names.get(&u).cloned().unwrap_or_else(|| u.to_18());
                            (u, name)
                        })
                        .collect();
                    named.sort_by(|a, b| a.1.cmp(&b.1));
                    named.dedup_by(|a, b| a.0 == b.0);
                    (reason, named)
                })
                .collect(),
        })
    }

    /// Recomputes the share rows of `ids` of a materialised object inside `tx`.
    async fn reshare_records(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        graph: &ShareGraph,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.ensure_share_table(tx, object).await?;
        store::shares::lock_records(tx, object, ids).await?;
        let readers = self.readers(tx, schema, graph, object, ids).await?;
        store::shares::replace(tx, object, ids, &readers).await?;
        Ok(())
    }

    /// Whether this process has made sure `object`'s share table exists.
    fn knows_share_table(&self, object: &ObjectDef) -> bool {
        self.shares
            .tables
            .lock()
            .map(|t| t.contains(&object.table))
            .unwrap_or(false)
    }

    async fn ensure_share_table(&self, tx: &mut Tx, object: &ObjectDef) -> Result<()> {
        if !self.knows_share_table(object) {
            store::shares::ensure_table(tx, object).await?;
            if let Ok(mut tables) = self.shares.tables.lock() {
                tables.insert(object.table.clone());
            }
        }
        Ok(())
    }

    /// Keeps share rows in step with a write of `ids` (inserted, updated, deleted or
    /// undeleted records of `object`), inside the write's transaction. `before` are the
    /// parents the records pointed to before the write (an update's old account, say).
    pub(crate) async fn reshare_after_write(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        object: &ObjectDef,
        ids: &[RecordId],
        before: Vec<RecordId>,
    ) -> Result<()> {
        if ids.is_empty() || !may_affect_shares(schema, object) {
            return Ok(());
        }
        let version = store::shares::sharing_version_in(tx).await?;
        let graph = self.share_graph(version).await?;
        if graph.materialised(object) {
            self.reshare_records(tx, schema, &graph, object, ids)
                .await?;
        }
        let Some(link) = parent_link(schema, object) else {
            return Ok(());
        };
        // Nothing to do when no object the link can point to keeps share rows (the common
        // case: every default public). A manual share can point to any object.
        let targets_materialised = if link.reference_to.is_empty() || object.name == "RecordShare" {
            schema.objects.iter().any(|o| graph.materialised(o))
        } else {
            link.reference_to
                .iter()
                .filter_map(|t| schema.object(t))
                .any(|o| graph.materialised(o))
        };
        if !targets_materialised {
            return Ok(());
        }
        let mut parents = before;
        parents.extend(store::shares::values_of(tx, object, link, ids).await?);
        parents.sort_by(|a, b| a.as_str15().cmp(b.as_str15()));
        parents.dedup();
        let mut by_object: HashMap<String, Vec<RecordId>> = HashMap::new();
        for parent in parents {
            by_object
                .entry(parent.key_prefix().to_string())
                .or_default()
                .push(parent);
        }
        for (prefix, ids) in by_object {
            if let Some(parent) = schema.object_by_prefix(&prefix)
                && graph.materialised(parent)
            {
                self.reshare_records(tx, schema, &graph, parent, &ids)
                    .await?;
            }
        }
        Ok(())
    }

    /// The parents a write's old rows pointed to (see `reshare_after_write`).
    pub(crate) fn parents_before<'r>(
        schema: &Schema,
        object: &ObjectDef,
        rows: impl Iterator<Item = &'r Vec<Value>>,
    ) -> Vec<RecordId> {
        let Some(link) = parent_link(schema, object) else {
            return Vec::new();
        };
        let Some(position) = object.field_position(&link.name) else {
            return Vec::new();
        };
        rows.filter_map(|row| row.get(position)?.as_id().cloned())
            .collect()
    }

    /// Removes the share rows of purged records.
    pub(crate) async fn unshare_purged(
        &self,
        tx: &mut Tx,
        object: &ObjectDef,
        ids: &[RecordId],
    ) -> Result<()> {
        if self.knows_share_table(object)
            || self
                .built_versions()
                .await?
                .contains_key(&object.name.to_ascii_lowercase())
        {
            self.ensure_share_table(tx, object).await?;
            store::shares::remove(tx, object, ids).await?;
        }
        Ok(())
    }

    /// The sharing version each object's rows were built for.
    async fn built_versions(&self) -> Result<HashMap<String, i64>> {
        if let Ok(built) = self.shares.built.lock()
            && let Some((at, versions)) = built.as_ref()
            && at.elapsed() < READY_RECHECK
        {
            return Ok(versions.clone());
        }
        let versions: HashMap<String, i64> = self
            .store()
            .settings_with_prefix(BUILT_PREFIX)
            .await?
            .into_iter()
            .filter_map(|(name, value)| {
                Some((name[BUILT_PREFIX.len()..].to_string(), value.parse().ok()?))
            })
            .collect();
        if let Ok(mut built) = self.shares.built.lock() {
            *built = Some((Instant::now(), versions.clone()));
        }
        Ok(versions)
    }

    /// Forgets which rows are built (after a change in this process: read again at once).
    pub(crate) fn forget_built_shares(&self) {
        if let Ok(mut built) = self.shares.built.lock() {
            *built = None;
        }
    }

    /// The objects whose share rows are current (reads may use them).
    pub(crate) async fn shares_ready(&self) -> Result<HashSet<String>> {
        let built = self.built_versions().await?;
        let version = built.get(CURRENT).copied().unwrap_or(0);
        Ok(built
            .into_iter()
            .filter(|(object, built)| *built == version && object != CURRENT)
            .map(|(object, _)| object)
            .collect())
    }

    /// Builds the share rows of every materialised object whose rows are not current, in
    /// batches; returns the objects built and their record counts. Stops early (to be run
    /// again) when the sharing version moves meanwhile.
    pub async fn rebuild_shares(&self) -> Result<Vec<(String, u64)>> {
        self.rebuild_shares_with(None).await
    }

    /// The server's periodic rebuild: done by one process at a time, the holder of a lease
    /// in the database, so that several servers on one database do not each rebuild the
    /// same rows. Returns nothing built while another process holds the lease.
    pub async fn rebuild_shares_as_leader(&self) -> Result<Vec<(String, u64)>> {
        let holder = self
            .shares
            .lease_holder
            .get_or_init(|| {
                crate::auth::random_text(16)
                    .unwrap_or_else(|_| format!("process {}", std::process::id()))
            })
            .clone();
        self.rebuild_shares_with(Some(&holder)).await
    }

    /// Takes or renews the rebuild lease for `holder` inside `tx`.
    async fn hold_rebuild_lease(tx: &mut Tx, holder: &str) -> Result<bool> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let expires_at = now + i64::try_from(REBUILD_LEASE.as_millis()).unwrap_or(i64::MAX);
        Ok(store::lease::take(tx, REBUILD_LEASE_NAME, holder, now, expires_at).await?)
    }

    async fn rebuild_shares_with(&self, lease: Option<&str>) -> Result<Vec<(String, u64)>> {
        let schema = self.schema().await?;
        let version = {
            let mut tx = self.store().begin().await?;
            let version = store::shares::sharing_version_in(&mut tx).await?;
            drop(tx);
            version
        };
        let graph = self.share_graph(version).await?;
        let built = self.built_versions().await?;
        let mut done = Vec::new();
        let pending: Vec<&Arc<ObjectDef>> = schema
            .objects
            .iter()
            .filter(|object| {
                graph.materialised(object)
                    && built.get(&object.name.to_ascii_lowercase()) != Some(&version)
            })
            .collect();
        if pending.is_empty() {
            return Ok(done);
        }
        for object in pending {
            let name = object.name.to_ascii_lowercase();
            let mut after: Option<RecordId> = None;
            let mut count = 0u64;
            let mut batches = 0u64;
            let mut tries = 0;
            loop {
                let mut tx = self.store().begin().await?;
                store::shares::wait_for_locks_at_most(&mut tx, REBUILD_LOCK_WAIT_MS).await?;
                if store::shares::sharing_version_in(&mut tx).await? != version {
                    return Ok(done);
                }
                // The lease is taken with the first batch and renewed with each one after;
                // held by another process (or lost to one), we stop.
                if let Some(holder) = lease
                    && !Self::hold_rebuild_lease(&mut tx, holder).await?
                {
                    return Ok(done);
                }
                let ids = store::shares::ids_after(&mut tx, object, after.as_ref(), REBUILD_BATCH)
                    .await?;
                if ids.is_empty() {
                    // An object with no records yet has no share table to analyse.
                    self.ensure_share_table(&mut tx, object).await?;
                    // Statistics of the full table, not of a fraction of it.
                    store::shares::analyze(&mut tx, object).await?;
                    store::shares::mark_built(&mut tx, &format!("{BUILT_PREFIX}{name}"), version)
                        .await?;
                    tx.commit().await?;
                    break;
                }
                match self
                    .reshare_records(&mut tx, &schema, &graph, object, &ids)
                    .await
                {
                    Err(AppError::Internal(e))
                        if e.is_lock_timeout() && tries < REBUILD_LOCK_TRIES =>
                    {
                        tries += 1;
                        drop(tx);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    written => written?,
                }
                tries = 0;
                batches += 1;
                if batches.is_power_of_two() {
                    store::shares::analyze(&mut tx, object).await?;
                }
                tx.commit().await?;
                count += ids.len() as u64;
                after = ids.last().cloned();
            }
            if let Ok(mut built) = self.shares.built.lock() {
                *built = None;
            }
            // Only a speed-up: the rows are built and marked so whether it runs or not.
            if let Err(error) = store::shares::settle(self.store(), object).await {
                tracing::warn!(%error, object = %object.name, "vacuuming the share rows failed");
            }
            done.push((object.name.clone(), count));
        }
        if let Some(holder) = lease {
            let mut tx = self.store().begin().await?;
            store::lease::release(&mut tx, REBUILD_LEASE_NAME, holder).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Compares every materialised object's share rows with the readers computed afresh;
    /// returns one line per difference (empty when the rows are right).
    /// It reads one snapshot and takes no write lock, so writers go on meanwhile.
    pub async fn check_shares(&self) -> Result<Vec<String>> {
        let schema = self.schema().await?;
        // The share tables first, in a short write of their own.
        let mut tx = self.store().begin().await?;
        let version = store::shares::sharing_version_in(&mut tx).await?;
        let graph = self.share_graph(version).await?;
        for object in schema.objects.iter() {
            if graph.materialised(object) {
                self.ensure_share_table(&mut tx, object).await?;
            }
        }
        tx.commit().await?;
        let mut tx = self.store().begin_snapshot().await?;
        let version = store::shares::sharing_version_in(&mut tx).await?;
        let graph = self.share_graph(version).await?;
        let mut problems = Vec::new();
        for object in schema.objects.iter() {
            if !graph.materialised(object) {
                continue;
            }
            if !self.knows_share_table(object) {
                // Sharing changed between the two transactions: check again.
                problems.push(format!(
                    "{}: sharing changed while checking; run the check again",
                    object.name
                ));
                continue;
            }
            let stored = store::shares::all_rows(&mut tx, object).await?;
            let mut after: Option<RecordId> = None;
            let mut expected: HashSet<Row> = HashSet::new();
            loop {
                let ids = store::shares::ids_after(&mut tx, object, after.as_ref(), REBUILD_BATCH)
                    .await?;
                if ids.is_empty() {
                    break;
                }
                for r in self.readers(&mut tx, &schema, &graph, object, &ids).await? {
                    let record = &r.record;
                    for user in &r.users {
                        expected.insert((
                            user.to_18(),
                            record.id.to_18(),
                            record.owner.as_ref() == Some(user),
                            record.sort_key.clone(),
                            record.rowid,
                            record.deleted,
                        ));
                    }
                }
                after = ids.last().cloned();
            }
            let stored: HashSet<Row> = stored
                .into_iter()
                .map(|(user, record, owned, key, rowid, deleted)| {
                    (user.to_18(), record.to_18(), owned, key, rowid, deleted)
                })
                .collect();
            // A row with a wrong flag shows as both: the row it should be, and the one it is.
            for (user, record, owned, key, _, deleted) in expected.difference(&stored) {
                problems.push(format!(
                    "{}: {user} should read {record} (sort key {key:?}, owned {owned}, \
                     deleted {deleted}) but has no such share row",
                    object.name
                ));
            }
            for (user, record, owned, key, _, deleted) in stored.difference(&expected) {
                problems.push(format!(
                    "{}: {user} has a share row for {record} (sort key {key:?}, owned {owned}, \
                     deleted {deleted}) it should not",
                    object.name
                ));
            }
        }
        Ok(problems)
    }
}

/// A share row as checked: user, record, owned, sort key, record key, deleted.
type Row = (String, String, bool, Option<String>, Option<i64>, bool);

/// The children whose owners may read their account (implicit sharing): the objects whose
/// `AccountId` points to `object`.
fn implicit_children<'s>(schema: &'s Schema, object: &ObjectDef) -> Vec<&'s ObjectDef> {
    schema
        .child_relationships(&object.name)
        .iter()
        .filter(|c| c.field == "AccountId")
        .filter_map(|c| schema.object(&c.child_object).map(|o| o.as_ref()))
        .filter(|child| child.owned)
        .collect()
}

/// The lookup through which a write to `object` changes who reads another record: a
/// child's account, a manual share's record.
fn parent_link<'o>(schema: &Schema, object: &'o ObjectDef) -> Option<&'o model::FieldDef> {
    if object.name == "RecordShare" {
        return object.field("RecordId");
    }
    let account = object.field("AccountId")?;
    let implicit = account.reference_to.iter().any(|target| {
        schema.object(target).is_some_and(|parent| {
            implicit_children(schema, parent)
                .iter()
                .any(|c| c.name == object.name)
        })
    });
    (implicit && object.owned).then_some(account)
}

/// Whether a write to `object` can change share rows at all (most objects' cannot).
fn may_affect_shares(schema: &Schema, object: &ObjectDef) -> bool {
    (object.owned && object.field("OwnerId").is_some()) || parent_link(schema, object).is_some()
}

/// The ids among `ids` matching a sharing rule's criteria.
async fn matching_ids(
    tx: &mut Tx,
    object: &ObjectDef,
    ids: &[RecordId],
    criteria: Cond,
) -> Result<Vec<RecordId>> {
    let Some(id) = object.field("Id") else {
        return Ok(Vec::new());
    };
    let column = Column {
        source: 0,
        field: id.clone(),
    };
    let plan = QueryPlan {
        sources: vec![Source {
            object: Arc::new(object.clone()),
            parent_of: None,
            visible: None,
        }],
        columns: vec![column.clone()],
        filter: Some(Cond::And(vec![
            Cond::In {
                column,
                values: ids.iter().cloned().map(Value::Id).collect(),
            },
            criteria,
        ])),
        order: Vec::new(),
        limit: None,
        offset: None,
        deleted: store::plan::Deleted::Include,
        alias_base: 0,
        search: None,
        shared: None,
    };
    Ok(store::Store::query_rows_in(tx, &plan)
        .await?
        .into_iter()
        .filter_map(|row| row.first()?.as_id().cloned())
        .collect())
}
