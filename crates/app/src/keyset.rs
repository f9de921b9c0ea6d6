//! Keyset paging: the page after a `nextRecordsUrl` starts just after the previous page's last
//! row, found through the sort order's index, instead of skipping all the rows before it
//! (OFFSET 9,800 reads 9,800 rows to throw them away). The locator carries that row's sort
//! key, so it stays self-contained and any process can serve the next page.
//!
//! The sort gets the record id as a last key, so that rows with equal keys have one order and
//! no row is skipped or repeated between pages. A row whose key holds a null ends keyset
//! paging for that cursor (the next page falls back to its offset), since "after null" has no
//! index range.

use model::{FieldType, RecordId, Value};
use store::query::{Column, Compare, Cond, Order, QueryPlan};

/// Where a plan's sort keys are among its columns.
pub(crate) struct Keyset {
    positions: Vec<usize>,
}

/// Prepares a plan for keyset paging, when it has an ORDER BY on the queried object's own
/// fields (not through parents, not a full-text rank): adds the id as the last sort key and
/// reads every sort key as a (hidden) trailing column.
pub(crate) fn prepare(plan: &mut QueryPlan) -> Option<Keyset> {
    if plan.order.is_empty() || plan.search.is_some() {
        return None;
    }
    if plan.order.iter().any(|o| {
        o.column.source != 0
            || !o.or_else.is_empty()
            || o.column.field.field_type == FieldType::MultiPicklist
    }) {
        return None;
    }
    let id = plan.sources.first()?.object.field("Id")?.clone();
    if !plan.order.iter().any(|o| o.column.field.name == "Id") {
        plan.order.push(Order {
            column: Column {
                source: 0,
                field: id,
            },
            descending: false,
            nulls_last: false,
            or_else: Vec::new(),
        });
    }
    let mut positions = Vec::with_capacity(plan.order.len());
    for order in &plan.order {
        positions.push(plan.columns.len());
        plan.columns.push(order.column.clone());
    }
    Some(Keyset { positions })
}

impl Keyset {
    /// The sort key of a row as a locator part; `None` when a key is null.
    pub(crate) fn key_of(&self, row: &[Value]) -> Option<String> {
        let values: Option<Vec<&Value>> = self
            .positions
            .iter()
            .map(|&p| row.get(p).filter(|v| !v.is_null()))
            .collect();
        Some(encode(&values?))
    }

    /// Restricts the plan to rows after `key` in its order. False when the key does not fit
    /// this plan (a locator for another query).
    pub(crate) fn start_after(&self, plan: &mut QueryPlan, key: &str) -> bool {
        let Some(values) = decode(key) else {
            return false;
        };
        if values.len() != plan.order.len() {
            return false;
        }
        // Rows after the key: for some i, equal on keys before i and after on key i. A key
        // sorted with nulls last has its nulls after every value.
        let after = |i: usize| {
            let order = &plan.order[i];
            let beyond = Cond::Compare {
                column: order.column.clone(),
                op: if order.descending {
                    Compare::Lt
                } else {
                    Compare::Gt
                },
                value: values[i].clone(),
            };
            if order.nulls_last {
                Cond::Or(vec![beyond, is_null(&order.column)])
            } else {
                beyond
            }
        };
        let mut alternatives = Vec::with_capacity(values.len());
        for i in 0..values.len() {
            let mut all: Vec<Cond> = (0..i)
                .map(|j| Cond::Compare {
                    column: plan.order[j].column.clone(),
                    op: Compare::Eq,
                    value: values[j].clone(),
                })
                .collect();
            all.push(after(i));
            alternatives.push(if all.len() == 1 {
                all.remove(0)
            } else {
                Cond::And(all)
            });
        }
        // The first key's range on its own, so an index on it can start there.
        let first = &plan.order[0];
        let mut range = Cond::Compare {
            column: first.column.clone(),
            op: if first.descending {
                Compare::Le
            } else {
                Compare::Ge
            },
            value: values[0].clone(),
        };
        if first.nulls_last {
            range = Cond::Or(vec![range, is_null(&first.column)]);
        }
        let keyset = Cond::And(vec![range, Cond::Or(alternatives)]);
        plan.filter = Some(match plan.filter.take() {
            Some(filter) => Cond::And(vec![filter, keyset]),
            None => keyset,
        });
        true
    }
}

fn is_null(column: &Column) -> Cond {
    Cond::Compare {
        column: column.clone(),
        op: Compare::Eq,
        value: Value::Null,
    }
}

/// Values as tagged strings in a JSON array: exact for every kind of value. (The REST layer
/// makes it URL-safe.)
fn encode(values: &[&Value]) -> String {
    let tagged: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::Null => "n".to_string(),
            Value::Bool(b) => format!("b{}", u8::from(*b)),
            Value::Decimal(d) => format!("d{d}"),
            Value::Text(t) => format!("t{t}"),
            Value::Date(d) => format!("D{}", model::value::format_date(*d)),
            Value::DateTime(t) => format!("T{}", model::value::format_datetime(*t)),
            Value::Id(id) => format!("i{}", id.as_str15()),
        })
        .collect();
    serde_json::to_string(&tagged).unwrap_or_default()
}

fn decode(text: &str) -> Option<Vec<Value>> {
    let tagged: Vec<String> = serde_json::from_str(text).ok()?;
    tagged
        .iter()
        .map(|t| {
            let mut chars = t.chars();
            let tag = chars.next()?;
            let rest = chars.as_str();
            Some(match tag {
                'n' => Value::Null,
                'b' => Value::Bool(rest == "1"),
                'd' => Value::Decimal(rest.parse().ok()?),
                't' => Value::Text(rest.to_string()),
                'D' => Value::Date(model::value::parse_date(rest)?),
                'T' => Value::DateTime(model::value::parse_datetime(rest)?),
                'i' => Value::Id(RecordId::parse(rest).ok()?),
                _ => return None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_exactly() {
        let values = [
            Value::Text("华为 \"x\"".into()),
            Value::Decimal("12.50".parse().unwrap()),
            Value::Date(model::value::parse_date("2024-02-29").unwrap()),
            Value::DateTime(model::value::parse_datetime("2024-02-29T10:00:00.123Z").unwrap()),
            Value::Id(RecordId::from_number("001", 42).unwrap()),
            Value::Bool(true),
        ];
        let refs: Vec<&Value> = values.iter().collect();
        assert_eq!(decode(&encode(&refs)).unwrap(), values);
        assert!(decode("not json").is_none());
        assert!(decode("[\"x1\"]").is_none());
    }
}
