//! Products and price books: the rules that tie a product's prices and an opportunity's
//! product lines together, applied inside the write's transaction.
//!
//! - Every org has one standard price book. A product is priced there first: a custom price
//!   book entry needs the product's standard price, and may follow it (`UseStandardPrice`).
//!   A price book lists a product once.
//! - A product line (OpportunityLineItem) comes from an active entry of the opportunity's
//!   price book; the first line chooses the book when the opportunity has none. It copies
//!   the product's name and code and the list price; its total is quantity × sales price
//!   less the discount, or its sales price follows from a total given instead.
//! - While an opportunity has product lines its price book stays, and its amount is theirs
//!   (the roll-up in `rollup`).
//! - A price book entry in use, the standard price of a product other books still list, and
//!   the standard price book itself cannot be deleted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rust_decimal::Decimal;

use model::{ErrorCode, FieldDef, ObjectDef, RecordError, RecordId, Schema, Value};
use store::plan::Deleted;
use store::{Filter, Select, Tx};

use crate::error::{delete_failed, integrity};
use crate::records::WriteContext;
use crate::{App, Caller, Result};

/// The name a new org's standard price book has.
pub const STANDARD_PRICE_BOOK: &str = "Standard Price Book";

/// Errors of a batch, by row.
type RowErrors = HashMap<usize, Vec<RecordError>>;

/// Live records of `object` matching `filter`: the named fields, in order.
async fn rows_of(
    tx: &mut Tx,
    object: &ObjectDef,
    fields: &[&str],
    filter: Filter,
) -> Result<Vec<Vec<Value>>> {
    select_rows(tx, object, fields, filter, Deleted::Exclude).await
}

/// As [`rows_of`], with the records in the recycle bin.
async fn rows_with_deleted(
    tx: &mut Tx,
    object: &ObjectDef,
    fields: &[&str],
    filter: Filter,
) -> Result<Vec<Vec<Value>>> {
    select_rows(tx, object, fields, filter, Deleted::Include).await
}

async fn select_rows(
    tx: &mut Tx,
    object: &ObjectDef,
    fields: &[&str],
    filter: Filter,
    deleted: Deleted,
) -> Result<Vec<Vec<Value>>> {
    let wanted: Vec<&FieldDef> = fields.iter().filter_map(|f| object.field(f)).collect();
    if wanted.len() != fields.len() {
        return Ok(Vec::new());
    }
    let mut select = Select::new(object, wanted);
    select.filter = Some(filter);
    select.deleted = deleted;
    Ok(store::records::select_in(tx, &select).await?)
}

fn ids_at(rows: &[Vec<Value>], position: Option<usize>) -> Vec<Value> {
    let Some(position) = position else {
        return Vec::new();
    };
    let set: HashSet<&RecordId> = rows.iter().filter_map(|r| r[position].as_id()).collect();
    set.into_iter().cloned().map(Value::Id).collect()
}

fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

fn money(amount: Decimal) -> Value {
    let mut amount = amount.round_dp(2);
    amount.rescale(2);
    Value::Decimal(amount)
}

/// The org's standard price book.
async fn standard_book(tx: &mut Tx, schema: &Schema) -> Result<Option<RecordId>> {
    let Some(books) = schema.object("Pricebook2") else {
        return Ok(None);
    };
    let rows = rows_of(
        tx,
        books,
        &["Id"],
        Filter::eq("IsStandard", Value::Bool(true)),
    )
    .await?;
    Ok(rows.first().and_then(|r| r[0].as_id()).cloned())
}

/// Positions of a product line's price fields.
struct LinePositions {
    quantity: usize,
    unit: usize,
    total: usize,
    discount: usize,
    list: usize,
    subtotal: usize,
}

impl LinePositions {
    fn of(object: &ObjectDef) -> Option<LinePositions> {
        let at = |name: &str| object.field_position(name);
        Some(LinePositions {
            quantity: at("Quantity")?,
            unit: at("UnitPrice")?,
            total: at("TotalPrice")?,
            discount: at("Discount")?,
            list: at("ListPrice")?,
            subtotal: at("Subtotal")?,
        })
    }
}

/// Prices a product line: subtotal = quantity × sales price; total = subtotal less the
/// discount. A total written instead of a sales price gives the sales price. `previous` is
/// the stored line on update (what changed is what the caller wrote).
fn price_line(
    at: &LinePositions,
    row: &mut [Value],
    previous: Option<&[Value]>,
) -> std::result::Result<(), RecordError> {
    let quantity = decimal(&row[at.quantity]).unwrap_or_default();
    if quantity.is_zero() {
        return Err(integrity("Quantity", "must be nonzero"));
    }
    let discount = decimal(&row[at.discount]).unwrap_or_default();
    if discount < Decimal::ZERO || discount > Decimal::ONE_HUNDRED {
        return Err(RecordError::on_field(
            ErrorCode::NumberOutsideValidRange,
            "Discount",
            format!(
                "Discount: value outside of valid range on numeric field: {discount} (0 to 100)"
            ),
        ));
    }
    let changed = |p: usize| previous.map_or(!row[p].is_null(), |old| old[p] != row[p]);
    let (unit_written, total_written) = (changed(at.unit), changed(at.total));
    if unit_written && total_written {
        return Err(integrity(
            "TotalPrice",
            "can not specify both TotalPrice and UnitPrice",
        ));
    }
    let kept = (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED;
    if total_written {
        let Some(total) = decimal(&row[at.total]) else {
            return Err(RecordError::on_field(
                ErrorCode::RequiredFieldMissing,
                "TotalPrice",
                "Required fields are missing: [TotalPrice]",
            ));
        };
        let per_unit = quantity * kept;
        if per_unit.is_zero() {
            return Err(integrity(
                "TotalPrice",
                "a total cannot give a sales price at a 100% discount",
            ));
        }
        row[at.unit] = money(total / per_unit);
        row[at.subtotal] = money(decimal(&row[at.unit]).unwrap_or_default() * quantity);
        row[at.total] = money(total);
        return Ok(());
    }
    if row[at.unit].is_null() {
        // No price given: the list price, as the product picker offers it.
        row[at.unit] = row[at.list].clone();
    }
    let unit = decimal(&row[at.unit]).unwrap_or_default();
    let subtotal = unit * quantity;
    row[at.subtotal] = money(subtotal);
    row[at.total] = money(subtotal * kept);
    Ok(())
}

/// What a price book entry brings to a product line.
struct Entry {
    book: Option<RecordId>,
    product: Value,
    code: Value,
    name: String,
    price: Value,
    active: bool,
}

impl App {
    /// Applies the price book rules to records about to be created. Rows already failing
    /// (`failed`) are left alone. May set the price book of opportunities getting their first
    /// product line.
    pub(crate) async fn price_rules_on_insert(
        &self,
        w: &mut WriteContext<'_>,
        object: &ObjectDef,
        rows: &mut [Vec<Value>],
        failed: &HashSet<usize>,
    ) -> Result<RowErrors> {
        let schema = w.schema;
        match object.name.as_str() {
            "PricebookEntry" => entries_on_insert(w.tx, schema, object, rows, failed).await,
            "OpportunityLineItem" => {
                let (errors, books) = lines_on_insert(w.tx, schema, object, rows, failed).await?;
                if let Some(opportunities) = schema.object("Opportunity")
                    && let Some(book) = opportunities.field_position("Pricebook2Id")
                {
                    let values = books
                        .into_iter()
                        .map(|(deal, chosen)| (deal, vec![(book, Value::Id(chosen))]))
                        .collect();
                    self.write_system_values(w, opportunities, values).await?;
                }
                Ok(errors)
            }
            _ => Ok(RowErrors::new()),
        }
    }

    /// Applies the price book rules to records about to be updated: `changes` holds each
    /// record's (index, id, stored row, new row); new rows may be completed.
    pub(crate) async fn price_rules_on_update(
        &self,
        w: &mut WriteContext<'_>,
        object: &ObjectDef,
        changes: &mut [(usize, RecordId, Vec<Value>, Vec<Value>)],
    ) -> Result<RowErrors> {
        let mut errors = RowErrors::new();
        match object.name.as_str() {
            "OpportunityLineItem" => {
                let Some(at) = LinePositions::of(object) else {
                    return Ok(errors);
                };
                for (r, (_, _, old, new)) in changes.iter_mut().enumerate() {
                    if let Err(error) = price_line(&at, new, Some(old)) {
                        errors.entry(r).or_default().push(error);
                    }
                }
            }
            "Opportunity" => {
                let at = |name: &str| object.field_position(name);
                let (Some(has), Some(book), Some(amount)) = (
                    at("HasOpportunityLineItem"),
                    at("Pricebook2Id"),
                    at("Amount"),
                ) else {
                    return Ok(errors);
                };
                for (r, (_, _, old, new)) in changes.iter().enumerate() {
                    if old[has] != Value::Bool(true) {
                        continue;
                    }
                    if old[book] != new[book] {
                        errors.entry(r).or_default().push(integrity(
                            "Pricebook2Id",
                            "an opportunity with products keeps their price book; remove the products first",
                        ));
                    }
                    if old[amount] != new[amount] {
                        errors.entry(r).or_default().push(integrity(
                            "Amount",
                            "an opportunity with products takes its amount from them; change the products instead",
                        ));
                    }
                }
            }
            "PricebookEntry" => {
                self.follow_standard_prices(w, object, changes).await?;
            }
            _ => {}
        }
        Ok(errors)
    }

    /// Entries that use the standard price follow it: when a standard price changes, and
    /// when an entry starts using it.
    async fn follow_standard_prices(
        &self,
        w: &mut WriteContext<'_>,
        object: &ObjectDef,
        changes: &mut [(usize, RecordId, Vec<Value>, Vec<Value>)],
    ) -> Result<()> {
        let at = |name: &str| object.field_position(name);
        let (Some(book), Some(product), Some(price), Some(uses)) = (
            at("Pricebook2Id"),
            at("Product2Id"),
            at("UnitPrice"),
            at("UseStandardPrice"),
        ) else {
            return Ok(());
        };
        let Some(standard) = standard_book(w.tx, w.schema).await? else {
            return Ok(());
        };
        // Entries starting to use the standard price take it now.
        let starting: Vec<Value> = changes
            .iter()
            .filter(|(_, _, old, new)| new[uses] == Value::Bool(true) && old[uses] != new[uses])
            .map(|(_, _, _, new)| new[product].clone())
            .collect();
        if !starting.is_empty() {
            let rows = rows_of(
                w.tx,
                object,
                &["Product2Id", "UnitPrice"],
                Filter::And(vec![
                    Filter::eq("Pricebook2Id", Value::Id(standard.clone())),
                    Filter::any_of("Product2Id", starting),
                ]),
            )
            .await?;
            let standard_prices: HashMap<&Value, &Value> =
                rows.iter().map(|r| (&r[0], &r[1])).collect();
            for (_, _, old, new) in changes.iter_mut() {
                if new[uses] == Value::Bool(true)
                    && old[uses] != new[uses]
                    && let Some(standard_price) = standard_prices.get(&new[product])
                {
                    new[price] = (*standard_price).clone();
                }
            }
        }
        // A standard price that changes moves the entries that follow it.
        let moved: Vec<(Value, Value)> = changes
            .iter()
            .filter(|(_, _, old, new)| {
                new[book].as_id() == Some(&standard) && old[price] != new[price]
            })
            .map(|(_, _, _, new)| (new[product].clone(), new[price].clone()))
            .collect();
        if moved.is_empty() {
            return Ok(());
        }
        let new_prices: HashMap<Value, Value> = moved.iter().cloned().collect();
        let followers = rows_of(
            w.tx,
            object,
            &["Id", "Product2Id"],
            Filter::And(vec![
                Filter::eq("UseStandardPrice", Value::Bool(true)),
                Filter::any_of("Product2Id", moved.into_iter().map(|(p, _)| p).collect()),
            ]),
        )
        .await?;
        // An entry this same write changes follows in its own new row, not by a second write.
        for (_, _, _, new) in changes.iter_mut() {
            if new[uses] == Value::Bool(true)
                && new[book].as_id() != Some(&standard)
                && let Some(new_price) = new_prices.get(&new[product])
            {
                new[price] = new_price.clone();
            }
        }
        let in_batch: HashSet<RecordId> = changes.iter().map(|(_, id, _, _)| id.clone()).collect();
        let values = followers
            .into_iter()
            .filter_map(|row| {
                let id = row[0].as_id()?.clone();
                if in_batch.contains(&id) {
                    return None;
                }
                let new_price = new_prices.get(&row[1])?.clone();
                Some((id, vec![(price, new_price)]))
            })
            .collect();
        self.write_system_values(w, object, values).await?;
        Ok(())
    }

    /// Deletes the price book rules forbid, by the root each was reached from: the standard
    /// price book; entries that product lines use; a standard price that other price books
    /// still list. `doomed` is every (object, record, root) about to go.
    pub(crate) async fn price_rules_on_delete(
        &self,
        tx: &mut Tx,
        schema: &Schema,
        doomed: &[(Arc<ObjectDef>, RecordId, RecordId)],
    ) -> Result<HashMap<RecordId, RecordError>> {
        let mut refused = HashMap::new();
        // What goes, and with which root. Product lines are required to name their entry, so
        // deleting an entry would take them along: an entry in use is refused instead, unless
        // its lines go for a reason of their own (their opportunity is deleted too).
        let going: HashMap<&RecordId, &RecordId> =
            doomed.iter().map(|(_, id, root)| (id, root)).collect();
        let of = |name: &str| -> Vec<(&RecordId, &RecordId)> {
            doomed
                .iter()
                .filter(|(o, _, _)| o.name == name)
                .map(|(_, id, root)| (id, root))
                .collect()
        };
        let books = of("Pricebook2");
        let entries = of("PricebookEntry");
        if books.is_empty() && entries.is_empty() {
            return Ok(refused);
        }
        let standard = standard_book(tx, schema).await?;
        for (book, root) in &books {
            if standard.as_ref() == Some(*book) {
                refused.insert(
                    (*root).clone(),
                    delete_failed("the standard price book cannot be deleted"),
                );
            }
        }
        let (Some(lines), Some(entry_object)) = (
            schema.object("OpportunityLineItem"),
            schema.object("PricebookEntry"),
        ) else {
            return Ok(refused);
        };
        for chunk in entries.chunks(500) {
            let ids: Vec<Value> = chunk
                .iter()
                .map(|(id, _)| Value::Id((*id).clone()))
                .collect();
            let roots: HashMap<&RecordId, &RecordId> = chunk.iter().copied().collect();
            // Lines in the recycle bin count too: undeleting one must find its entry.
            let used = rows_with_deleted(
                tx,
                lines,
                &["Id", "PricebookEntryId"],
                Filter::any_of("PricebookEntryId", ids.clone()),
            )
            .await?;
            for line in &used {
                let (Some(line_id), Some(entry)) = (line[0].as_id(), line[1].as_id()) else {
                    continue;
                };
                if let Some(root) = roots.get(entry)
                    && going.get(line_id).is_none_or(|line_root| line_root == root)
                {
                    refused.entry((*root).clone()).or_insert_with(|| {
                        delete_failed(
                            "a price book entry that opportunity products use cannot be deleted",
                        )
                    });
                }
            }
            let Some(standard) = &standard else { continue };
            let standard_rows = rows_of(
                tx,
                entry_object,
                &["Id", "Product2Id"],
                Filter::And(vec![
                    Filter::any_of("Id", ids),
                    Filter::eq("Pricebook2Id", Value::Id(standard.clone())),
                ]),
            )
            .await?;
            let products: Vec<Value> = standard_rows.iter().map(|r| r[1].clone()).collect();
            if products.is_empty() {
                continue;
            }
            let listed = rows_of(
                tx,
                entry_object,
                &["Id", "Product2Id"],
                Filter::any_of("Product2Id", products),
            )
            .await?;
            for standard_row in &standard_rows {
                let Some(standard_id) = standard_row[0].as_id() else {
                    continue;
                };
                let elsewhere = listed.iter().any(|r| {
                    r[1] == standard_row[1]
                        && r[0].as_id().is_some_and(|id| !going.contains_key(id))
                });
                if elsewhere && let Some(root) = roots.get(standard_id) {
                    refused.entry((*root).clone()).or_insert_with(|| {
                        delete_failed("the standard price of a product that other price books list cannot be deleted; delete those entries first")
                    });
                }
            }
        }
        Ok(refused)
    }

    /// Gives an org without one its standard price book (new orgs, and orgs made before price
    /// books had rules).
    pub(crate) async fn ensure_standard_price_book(&self) -> Result<()> {
        let schema = self.schema().await?;
        let Some(books) = schema.object("Pricebook2").cloned() else {
            return Ok(());
        };
        let (Some(standard_field), Some(name_field)) =
            (books.field("IsStandard"), books.field("Name"))
        else {
            return Ok(());
        };
        let existing = self
            .find(
                &Caller::system(),
                "Pricebook2",
                &["Id"],
                Some(Filter::eq("IsStandard", Value::Bool(true))),
                Vec::new(),
                Some(1),
            )
            .await?;
        if !existing.is_empty() || !self.store().claim_once("standard_price_book").await? {
            return Ok(());
        }
        let mut input = crate::records::RecordInput::new();
        input.insert(name_field.name.clone(), STANDARD_PRICE_BOOK.into());
        input.insert("IsActive".into(), true.into());
        let mut numbers = self.store().reserve_record_numbers(1).await?;
        let mut tx = self.store().begin().await?;
        let ids = self
            .insert_all_in(
                &mut tx,
                &schema,
                &Caller::system(),
                "Pricebook2",
                vec![input],
                &mut numbers,
            )
            .await?;
        for id in &ids {
            store::records::update(
                &mut tx,
                &books,
                id,
                &[(standard_field, Value::Bool(true))],
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Price book entries about to be created: a price book lists a product once, the standard
/// price comes first, an entry using the standard price takes it, and the product's name and
/// code are copied.
async fn entries_on_insert(
    tx: &mut Tx,
    schema: &Schema,
    object: &ObjectDef,
    rows: &mut [Vec<Value>],
    failed: &HashSet<usize>,
) -> Result<RowErrors> {
    let mut errors = RowErrors::new();
    let at = |name: &str| object.field_position(name);
    let (Some(book), Some(product), Some(price), Some(uses), Some(name), Some(code)) = (
        at("Pricebook2Id"),
        at("Product2Id"),
        at("UnitPrice"),
        at("UseStandardPrice"),
        at("Name"),
        at("ProductCode"),
    ) else {
        return Ok(errors);
    };
    let (Some(products), Some(standard)) =
        (schema.object("Product2"), standard_book(tx, schema).await?)
    else {
        return Ok(errors);
    };
    let product_ids = ids_at(rows, Some(product));
    if product_ids.is_empty() {
        return Ok(errors);
    }
    let names: HashMap<Value, (Value, Value)> = rows_of(
        tx,
        products,
        &["Id", "Name", "ProductCode"],
        Filter::any_of("Id", product_ids.clone()),
    )
    .await?
    .into_iter()
    .map(|r| (r[0].clone(), (r[1].clone(), r[2].clone())))
    .collect();
    // (book, product) → price, for what is stored and what this batch adds.
    let mut listed: HashMap<(Value, Value), Value> = rows_of(
        tx,
        object,
        &["Pricebook2Id", "Product2Id", "UnitPrice"],
        Filter::any_of("Product2Id", product_ids),
    )
    .await?
    .into_iter()
    .map(|r| ((r[0].clone(), r[1].clone()), r[2].clone()))
    .collect();
    let standard = Value::Id(standard);
    for (r, row) in rows.iter_mut().enumerate() {
        if failed.contains(&r) {
            continue;
        }
        if let Some((product_name, product_code)) = names.get(&row[product]) {
            row[name] = product_name.clone();
            row[code] = product_code.clone();
        }
        let key = (row[book].clone(), row[product].clone());
        if listed.contains_key(&key) {
            errors.entry(r).or_default().push(RecordError::on_field(
                ErrorCode::DuplicateValue,
                "Product2Id",
                "This price definition already exists in this price book",
            ));
            continue;
        }
        if row[book] == standard {
            if row[uses] == Value::Bool(true) {
                errors.entry(r).or_default().push(integrity(
                    "UseStandardPrice",
                    "an entry of the standard price book is the standard price",
                ));
                continue;
            }
        } else {
            let Some(standard_price) = listed.get(&(standard.clone(), row[product].clone())) else {
                errors.entry(r).or_default().push(RecordError::on_field(
                    ErrorCode::StandardPriceNotDefined,
                    "Product2Id",
                    "No standard price defined for this product: give it a price in the standard price book first",
                ));
                continue;
            };
            if row[uses] == Value::Bool(true) {
                row[price] = standard_price.clone();
            }
        }
        listed.insert(key, row[price].clone());
    }
    Ok(errors)
}

/// Product lines about to be created: each from an active entry of its opportunity's price
/// book, priced. Returns the errors, and the price book each opportunity without one takes.
async fn lines_on_insert(
    tx: &mut Tx,
    schema: &Schema,
    object: &ObjectDef,
    rows: &mut [Vec<Value>],
    failed: &HashSet<usize>,
) -> Result<(RowErrors, HashMap<RecordId, RecordId>)> {
    let mut errors = RowErrors::new();
    let mut chosen = HashMap::new();
    let at = |name: &str| object.field_position(name);
    let (Some(deal), Some(entry_at), Some(product), Some(code), Some(name), Some(prices)) = (
        at("OpportunityId"),
        at("PricebookEntryId"),
        at("Product2Id"),
        at("ProductCode"),
        at("Name"),
        LinePositions::of(object),
    ) else {
        return Ok((errors, chosen));
    };
    let (Some(entry_object), Some(deals)) = (
        schema.object("PricebookEntry"),
        schema.object("Opportunity"),
    ) else {
        return Ok((errors, chosen));
    };
    let entries: HashMap<RecordId, Entry> = rows_of(
        tx,
        entry_object,
        &[
            "Id",
            "Pricebook2Id",
            "Product2Id",
            "ProductCode",
            "Name",
            "UnitPrice",
            "IsActive",
        ],
        Filter::any_of("Id", ids_at(rows, Some(entry_at))),
    )
    .await?
    .into_iter()
    .filter_map(|r| {
        Some((
            r[0].as_id()?.clone(),
            Entry {
                book: r[1].as_id().cloned(),
                product: r[2].clone(),
                code: r[3].clone(),
                name: r[4].as_text().unwrap_or_default().to_string(),
                price: r[5].clone(),
                active: r[6] == Value::Bool(true),
            },
        ))
    })
    .collect();
    // Opportunity → (name, price book).
    let mut books: HashMap<RecordId, (String, Option<RecordId>)> = rows_of(
        tx,
        deals,
        &["Id", "Name", "Pricebook2Id"],
        Filter::any_of("Id", ids_at(rows, Some(deal))),
    )
    .await?
    .into_iter()
    .filter_map(|r| {
        Some((
            r[0].as_id()?.clone(),
            (
                r[1].as_text().unwrap_or_default().to_string(),
                r[2].as_id().cloned(),
            ),
        ))
    })
    .collect();
    for (r, row) in rows.iter_mut().enumerate() {
        if failed.contains(&r) {
            continue;
        }
        let (Some(entry), Some(deal_id)) = (
            row[entry_at].as_id().and_then(|id| entries.get(id)),
            row[deal].as_id().cloned(),
        ) else {
            continue;
        };
        let Some((deal_name, book)) = books.get_mut(&deal_id) else {
            continue;
        };
        if !entry.active {
            errors
                .entry(r)
                .or_default()
                .push(integrity("PricebookEntryId", "pricebook entry is inactive"));
            continue;
        }
        match (book.as_ref(), entry.book.as_ref()) {
            (Some(book), Some(entry_book)) if book != entry_book => {
                errors.entry(r).or_default().push(integrity(
                    "PricebookEntryId",
                    "pricebook entry is in a different pricebook than the one assigned to the opportunity",
                ));
                continue;
            }
            (None, Some(entry_book)) => {
                *book = Some(entry_book.clone());
                chosen.insert(deal_id.clone(), entry_book.clone());
            }
            _ => {}
        }
        row[product] = entry.product.clone();
        row[code] = entry.code.clone();
        row[name] = Value::Text(format!("{deal_name} {}", entry.name).trim().to_string());
        row[prices.list] = entry.price.clone();
        if let Err(error) = price_line(&prices, row, None) {
            errors.entry(r).or_default().push(error);
        }
    }
    // An opportunity keeps no price book from lines that all failed.
    chosen.retain(|deal_id, _| {
        rows.iter().enumerate().any(|(r, row)| {
            !failed.contains(&r) && !errors.contains_key(&r) && row[deal].as_id() == Some(deal_id)
        })
    });
    Ok((errors, chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions() -> LinePositions {
        LinePositions {
            quantity: 0,
            unit: 1,
            total: 2,
            discount: 3,
            list: 4,
            subtotal: 5,
        }
    }

    fn d(text: &str) -> Value {
        Value::Decimal(text.parse().unwrap())
    }

    #[test]
    fn a_line_is_priced_from_its_sales_price_less_the_discount() {
        let mut row = vec![
            d("3"),
            d("100.00"),
            Value::Null,
            d("10"),
            d("120.00"),
            Value::Null,
        ];
        price_line(&positions(), &mut row, None).unwrap();
        assert_eq!(row[5], d("300.00"));
        assert_eq!(row[2], d("270.00"));
    }

    #[test]
    fn a_line_without_a_price_takes_the_list_price() {
        let mut row = vec![
            d("2"),
            Value::Null,
            Value::Null,
            Value::Null,
            d("120.00"),
            Value::Null,
        ];
        price_line(&positions(), &mut row, None).unwrap();
        assert_eq!(row[1], d("120.00"));
        assert_eq!(row[2], d("240.00"));
    }

    #[test]
    fn a_total_gives_the_sales_price() {
        let mut row = vec![
            d("4"),
            Value::Null,
            d("360"),
            d("10"),
            d("120.00"),
            Value::Null,
        ];
        price_line(&positions(), &mut row, None).unwrap();
        assert_eq!(row[1], d("100.00"));
        assert_eq!(row[2], d("360.00"));
    }

    #[test]
    fn both_prices_or_no_quantity_are_refused() {
        let mut both = vec![d("1"), d("5"), d("5"), Value::Null, d("5"), Value::Null];
        let error = price_line(&positions(), &mut both, None).unwrap_err();
        assert_eq!(error.code, ErrorCode::FieldIntegrityException);
        let mut none = vec![
            d("0"),
            d("5"),
            Value::Null,
            Value::Null,
            d("5"),
            Value::Null,
        ];
        assert_eq!(
            price_line(&positions(), &mut none, None)
                .unwrap_err()
                .fields,
            vec!["Quantity".to_string()]
        );
        let mut over = vec![d("1"), d("5"), Value::Null, d("120"), d("5"), Value::Null];
        assert_eq!(
            price_line(&positions(), &mut over, None).unwrap_err().code,
            ErrorCode::NumberOutsideValidRange
        );
    }

    #[test]
    fn an_update_reprices_from_what_changed() {
        let old = vec![
            d("2"),
            d("10.00"),
            d("20.00"),
            Value::Null,
            d("10.00"),
            d("20.00"),
        ];
        let mut new = old.clone();
        new[0] = d("5");
        price_line(&positions(), &mut new, Some(&old)).unwrap();
        assert_eq!(new[2], d("50.00"));
        let mut by_total = old.clone();
        by_total[2] = d("30");
        price_line(&positions(), &mut by_total, Some(&old)).unwrap();
        assert_eq!(by_total[1], d("15.00"));
    }
}
