//! The sales-process part of the demo company: campaigns with members, products priced in
//! the standard and a partner price book, opportunities with product lines, converted leads
//! and cases. All of it goes through the record path, so roll-ups, history and conversion
//! behave as they would for a user.

use serde::Deserialize;

use model::{ErrorCode, Value};

use crate::records::RecordInput;
use crate::seed::{Keys, SeedReport};
use crate::{App, AppError, Caller, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoCampaign {
    key: String,
    owner: String,
    parent: Option<String>,
    fields: RecordInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoMember {
    campaign: String,
    lead: Option<String>,
    contact: Option<String>,
    status: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoProduct {
    key: String,
    standard_price: serde_json::Number,
    /// Its price in the partner price book, if that book lists it.
    partner_price: Option<serde_json::Number>,
    fields: RecordInput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoLineItem {
    opportunity: String,
    product: String,
    quantity: serde_json::Number,
    discount: Option<serde_json::Number>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoConversion {
    lead: String,
    opportunity_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoCase {
    account: Option<String>,
    contact: Option<String>,
    owner: String,
    fields: RecordInput,
}

impl App {
    /// Campaigns (parents first) and their members.
    pub(crate) async fn seed_campaigns(
        &self,
        caller: &Caller,
        campaigns: &[DemoCampaign],
        members: &[DemoMember],
        keys: &mut Keys,
        report: &mut SeedReport,
    ) -> Result<()> {
        let (roots, children): (Vec<_>, Vec<_>) =
            campaigns.iter().partition(|c| c.parent.is_none());
        for group in [roots, children] {
            let mut inputs = Vec::new();
            for campaign in &group {
                let mut input = campaign.fields.clone();
                keys.put(&mut input, "OwnerId", Some(&campaign.owner))?;
                keys.put(&mut input, "ParentId", campaign.parent.as_deref())?;
                inputs.push(input);
            }
            for (campaign, id) in group
                .iter()
                .zip(self.create_all(caller, "Campaign", inputs).await?)
            {
                keys.0.insert(campaign.key.clone(), id);
            }
        }
        report
            .counts
            .push(("Campaign".into(), campaigns.len() as u64));
        let mut inputs = Vec::new();
        for member in members {
            let mut input = RecordInput::new();
            keys.put(&mut input, "CampaignId", Some(&member.campaign))?;
            keys.put(&mut input, "LeadId", member.lead.as_deref())?;
            keys.put(&mut input, "ContactId", member.contact.as_deref())?;
            input.insert("Status".into(), member.status.clone().into());
            inputs.push(input);
        }
        self.create_all(caller, "CampaignMember", inputs).await?;
        report
            .counts
            .push(("CampaignMember".into(), members.len() as u64));
        Ok(())
    }

    /// Products with their standard prices, the partner price book with its prices, and
    /// the product lines of some deals (from the standard price book).
    pub(crate) async fn seed_products(
        &self,
        caller: &Caller,
        products: &[DemoProduct],
        partner_book: &RecordInput,
        lines: &[DemoLineItem],
        keys: &mut Keys,
        report: &mut SeedReport,
    ) -> Result<()> {
        let inputs = products.iter().map(|p| p.fields.clone()).collect();
        for (product, id) in products
            .iter()
            .zip(self.create_all(caller, "Product2", inputs).await?)
        {
            keys.0.insert(product.key.clone(), id);
        }
        report
            .counts
            .push(("Product2".into(), products.len() as u64));
        let standard = self
            .find(
                caller,
                "Pricebook2",
                &["Id"],
                Some(crate::Filter::eq("IsStandard", Value::Bool(true))),
                Vec::new(),
                Some(1),
            )
            .await?
            .first()
            .and_then(|r| r.id().cloned())
            .ok_or_else(|| {
                AppError::one(ErrorCode::NotFound, "the org has no standard price book")
            })?;
        let partner = self
            .create(caller, "Pricebook2", partner_book.clone())
            .await?;
        report.counts.push(("Pricebook2".into(), 1));
        let entry = |book: &model::RecordId,
                     product: &str,
                     price: &serde_json::Number|
         -> Result<RecordInput> {
            let mut input = RecordInput::new();
            input.insert("Pricebook2Id".into(), book.to_18().into());
            keys.put(&mut input, "Product2Id", Some(product))?;
            input.insert("UnitPrice".into(), price.clone().into());
            input.insert("IsActive".into(), true.into());
            Ok(input)
        };
        let mut standard_entries = Vec::new();
        for product in products {
            standard_entries.push(entry(&standard, &product.key, &product.standard_price)?);
        }
        let standard_ids = self
            .create_all(caller, "PricebookEntry", standard_entries)
            .await?;
        let mut partner_entries = Vec::new();
        for product in products {
            if let Some(price) = &product.partner_price {
                partner_entries.push(entry(&partner, &product.key, price)?);
            }
        }
        let partner_count = partner_entries.len();
        self.create_all(caller, "PricebookEntry", partner_entries)
            .await?;
        report.counts.push((
            "PricebookEntry".into(),
            (standard_ids.len() + partner_count) as u64,
        ));
        let mut inputs = Vec::new();
        for line in lines {
            let at = products
                .iter()
                .position(|p| p.key == line.product)
                .ok_or_else(|| {
                    AppError::one(
                        ErrorCode::InvalidCrossReferenceKey,
                        format!("demo data names unknown product {}", line.product),
                    )
                })?;
            let mut input = RecordInput::new();
            keys.put(&mut input, "OpportunityId", Some(&line.opportunity))?;
            input.insert("PricebookEntryId".into(), standard_ids[at].to_18().into());
            input.insert("Quantity".into(), line.quantity.clone().into());
            if let Some(discount) = &line.discount {
                input.insert("Discount".into(), discount.clone().into());
            }
            inputs.push(input);
        }
        self.create_all(caller, "OpportunityLineItem", inputs)
            .await?;
        report
            .counts
            .push(("OpportunityLineItem".into(), lines.len() as u64));
        Ok(())
    }

    /// Leads converted into accounts, contacts and opportunities.
    pub(crate) async fn seed_conversions(
        &self,
        caller: &Caller,
        conversions: &[DemoConversion],
        keys: &Keys,
        report: &mut SeedReport,
    ) -> Result<()> {
        let mut converts = Vec::new();
        for conversion in conversions {
            converts.push(crate::convert::LeadConvert {
                lead_id: keys.id(&conversion.lead)?,
                converted_status: "Closed - Converted".into(),
                opportunity_name: conversion.opportunity_name.clone(),
                ..Default::default()
            });
        }
        for outcome in self.convert_leads(caller, converts).await? {
            outcome.map_err(AppError::Rejected)?;
        }
        report
            .counts
            .push(("Converted leads".into(), conversions.len() as u64));
        Ok(())
    }

    /// Support cases on accounts and contacts.
    pub(crate) async fn seed_cases(
        &self,
        caller: &Caller,
        cases: &[DemoCase],
        keys: &Keys,
        report: &mut SeedReport,
    ) -> Result<()> {
        let mut inputs = Vec::new();
        for case in cases {
            let mut input = case.fields.clone();
            keys.put(&mut input, "OwnerId", Some(&case.owner))?;
            keys.put(&mut input, "AccountId", case.account.as_deref())?;
            keys.put(&mut input, "ContactId", case.contact.as_deref())?;
            inputs.push(input);
        }
        self.create_all(caller, "Case", inputs).await?;
        report.counts.push(("Case".into(), cases.len() as u64));
        Ok(())
    }
}
