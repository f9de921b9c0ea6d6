//! The rules of group membership, checked on every new GroupMember whatever path wrote it
//! (CLI, REST, composite), and over all memberships after an undelete. A public group or queue holds users and public groups; what is
//! shared with a group reaches the users of the groups inside it (`shares` flattens them).
//! As in Salesforce, a queue cannot sit inside another group, a group cannot come to hold
//! itself (directly or through others), and a member is listed once.

use std::collections::{HashMap, HashSet};

use model::{ErrorCode, FieldDef, ObjectDef, RecordError, RecordId, Schema, Value};
use store::{Filter, Select, Tx};

use crate::Result;
use crate::shares::GROUP_PREFIX;

type RowErrors = HashMap<usize, Vec<RecordError>>;

fn refused(message: String) -> RecordError {
    RecordError::on_field(ErrorCode::FieldIntegrityException, "UserOrGroupId", message)
}

/// Checks new GroupMember rows (nothing for other objects): rows in `failed` are skipped,
/// and each accepted row counts for the rows after it in the same batch.
pub(crate) async fn membership_rules_on_insert(
    tx: &mut Tx,
    schema: &Schema,
    object: &ObjectDef,
    rows: &[Vec<Value>],
    failed: &HashSet<usize>,
) -> Result<RowErrors> {
    let mut errors = RowErrors::new();
    if object.name != "GroupMember" {
        return Ok(errors);
    }
    let (Some(group_at), Some(member_at)) = (
        object.field_position("GroupId"),
        object.field_position("UserOrGroupId"),
    ) else {
        return Ok(errors);
    };
    let mut inside = stored_memberships(tx, object).await?;
    let queues = queues_among(tx, schema, rows, member_at).await?;
    for (r, row) in rows.iter().enumerate() {
        if failed.contains(&r) {
            continue;
        }
        let (Some(group), Some(member)) = (row[group_at].as_id(), row[member_at].as_id()) else {
            continue;
        };
        let members = inside.entry(group.clone()).or_default();
        if members.contains(member) {
            errors.entry(r).or_default().push(RecordError::on_field(
                ErrorCode::DuplicateValue,
                "UserOrGroupId",
                format!("{member} is already a member of group {group}"),
            ));
            continue;
        }
        if member.key_prefix() == GROUP_PREFIX {
            let error = if queues.contains(member) {
                Some(format!(
                    "{member} is a queue: a queue cannot be a member of a group"
                ))
            } else if member == group || holds(&inside, member, group) {
                Some(format!(
                    "group {member} holds group {group} (or is it): adding it would make {group} a member of itself"
                ))
            } else {
                None
            };
            if let Some(message) = error {
                errors.entry(r).or_default().push(refused(message));
                continue;
            }
        }
        inside
            .entry(group.clone())
            .or_default()
            .insert(member.clone());
    }
    Ok(errors)
}

/// Checks every live membership at once: after an undelete, which brings memberships (or a
/// group with its memberships) back from the recycle bin past the checks a new one gets, a
/// queue inside a group, a group holding itself or a member listed twice is refused.
pub(crate) async fn refuse_invalid_memberships(tx: &mut Tx, schema: &Schema) -> Result<()> {
    let Some(object) = schema.object("GroupMember") else {
        return Ok(());
    };
    let mut inside: HashMap<RecordId, HashSet<RecordId>> = HashMap::new();
    // Every problem is reported, not only the first found: a bulk change of memberships is
    // corrected in one pass.
    // Each in an order of its own making (by id), not the database's, so that both backends
    // answer alike.
    let mut twice: Vec<(RecordId, RecordId)> = Vec::new();
    for (group, member) in stored_pairs(tx, object).await? {
        if !inside
            .entry(group.clone())
            .or_default()
            .insert(member.clone())
        {
            twice.push((group, member));
        }
    }
    twice.sort();
    twice.dedup();
    let mut problems: Vec<String> = twice
        .into_iter()
        .map(|(group, member)| format!("{member} would be a member of group {group} twice"))
        .collect();
    let rows: Vec<Vec<Value>> = inside
        .values()
        .flatten()
        .map(|member| vec![Value::Id(member.clone())])
        .collect();
    let mut queues: Vec<RecordId> = queues_among(tx, schema, &rows, 0)
        .await?
        .into_iter()
        .collect();
    queues.sort();
    for queue in queues {
        problems.push(format!(
            "{queue} is a queue: a queue cannot be a member of a group"
        ));
    }
    let mut circular: Vec<&RecordId> = inside
        .keys()
        .filter(|group| holds(&inside, group, group))
        .collect();
    circular.sort();
    for group in circular {
        problems.push(format!("group {group} would be a member of itself"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(crate::AppError::Rejected(
        problems.into_iter().map(refused).collect(),
    ))
}

/// Whether `outer` holds `target`, directly or through the groups inside it.
fn holds(
    inside: &HashMap<RecordId, HashSet<RecordId>>,
    outer: &RecordId,
    target: &RecordId,
) -> bool {
    let mut visited = HashSet::from([outer]);
    let mut pending = vec![outer];
    while let Some(at) = pending.pop() {
        for member in inside.get(at).into_iter().flatten() {
            if member == target {
                return true;
            }
            if member.key_prefix() == GROUP_PREFIX && visited.insert(member) {
                pending.push(member);
            }
        }
    }
    false
}

/// Every live membership, by group: the table is small (administrators write it by hand).
async fn stored_memberships(
    tx: &mut Tx,
    object: &ObjectDef,
) -> Result<HashMap<RecordId, HashSet<RecordId>>> {
    let mut inside: HashMap<RecordId, HashSet<RecordId>> = HashMap::new();
    for (group, member) in stored_pairs(tx, object).await? {
        inside.entry(group).or_default().insert(member);
    }
    Ok(inside)
}

/// Every live membership as (group, member), duplicates included.
async fn stored_pairs(tx: &mut Tx, object: &ObjectDef) -> Result<Vec<(RecordId, RecordId)>> {
    let fields: Vec<&FieldDef> = ["GroupId", "UserOrGroupId"]
        .iter()
        .filter_map(|f| object.field(f))
        .collect();
    Ok(store::records::select_in(tx, &Select::new(object, fields))
        .await?
        .into_iter()
        .filter_map(|row| match (row.first(), row.get(1)) {
            (Some(Value::Id(group)), Some(Value::Id(member))) => {
                Some((group.clone(), member.clone()))
            }
            _ => None,
        })
        .collect())
}

/// Which of the groups the rows name as members are queues.
async fn queues_among(
    tx: &mut Tx,
    schema: &Schema,
    rows: &[Vec<Value>],
    member_at: usize,
) -> Result<HashSet<RecordId>> {
    let named: Vec<Value> = rows
        .iter()
        .filter_map(|row| row[member_at].as_id())
        .filter(|id| id.key_prefix() == GROUP_PREFIX)
        .map(|id| Value::Id(id.clone()))
        .collect();
    let (Some(groups), false) = (schema.object("Group"), named.is_empty()) else {
        return Ok(HashSet::new());
    };
    let fields: Vec<&FieldDef> = ["Id", "Type"]
        .iter()
        .filter_map(|f| groups.field(f))
        .collect();
    let mut select = Select::new(groups, fields);
    select.filter = Some(Filter::And(vec![
        Filter::any_of("Id", named),
        Filter::eq("Type", Value::Text("Queue".into())),
    ]));
    Ok(store::records::select_in(tx, &select)
        .await?
        .into_iter()
        .filter_map(|row| row.first().and_then(Value::as_id).cloned())
        .collect())
}
