//! `rapport query`: a SOQL result as a table, CSV or JSON, every page fetched.

use std::io::Write;

use anyhow::bail;

use app::query::{Cell, QueryOptions, Row};
use app::{App, Caller};

/// Flattens a row into (column name, text) pairs: parents as `Account.Name`.
fn flatten(prefix: &str, row: &Row, out: &mut Vec<(String, String)>) {
    for (name, cell) in &row.cells {
        let column = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        match cell {
            Cell::Value(value) => out.push((column, value.to_display())),
            Cell::Parent(Some(parent)) => flatten(&column, parent, out),
            Cell::Parent(None) | Cell::Children(None) => out.push((column, String::new())),
            Cell::Children(Some(rows)) => out.push((column, format!("{} record(s)", rows.len()))),
        }
    }
}

fn json_of(row: &Row) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, cell) in &row.cells {
        let value = match cell {
            Cell::Value(value) => value.to_json(),
            Cell::Parent(None) => serde_json::Value::Null,
            Cell::Parent(Some(parent)) => json_of(parent),
            Cell::Children(None) => serde_json::Value::Null,
            Cell::Children(Some(rows)) => {
                serde_json::Value::Array(rows.iter().map(json_of).collect())
            }
        };
        map.insert(name.to_string(), value);
    }
    serde_json::Value::Object(map)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub async fn query(
    app: &App,
    caller: &Caller,
    soql: &str,
    all: bool,
    format: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !matches!(format, "table" | "csv" | "json") {
        bail!("unknown format {format}: use table, csv or json");
    }
    let mut rows = Vec::new();
    let mut start = 0;
    let mut known_total = None;
    let mut after = None;
    let total = loop {
        let options = QueryOptions {
            include_deleted: all,
            start,
            page_size: app::query::MAX_PAGE,
            known_total,
            after: after.take(),
            count: true,
        };
        let page = app
            .query(caller, soql, options)
            .await
            .map_err(crate::cli::explain)?;
        rows.extend(page.rows);
        known_total = Some(page.total_size);
        after = page.next_key;
        match page.next_start {
            Some(next) => start = next,
            None => break page.total_size,
        }
    };
    let flat: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|row| {
            let mut cells = Vec::new();
            flatten("", row, &mut cells);
            cells
        })
        .collect();
    let header: Vec<String> = flat
        .first()
        .map(|r| r.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    match format {
        "json" => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Array(
                rows.iter().map(json_of).collect()
            ))?
        )?,
        "csv" => {
            writeln!(
                out,
                "{}",
                header
                    .iter()
                    .map(|h| csv_field(h))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for row in &flat {
                writeln!(
                    out,
                    "{}",
                    row.iter()
                        .map(|(_, v)| csv_field(v))
                        .collect::<Vec<_>>()
                        .join(",")
                )?;
            }
        }
        _ => {
            let width = |i: usize| {
                let cells = flat
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|(_, v)| v.chars().count());
                cells
                    .chain(std::iter::once(header[i].chars().count()))
                    .max()
                    .unwrap_or(0)
                    .min(40)
            };
            let widths: Vec<usize> = (0..header.len()).map(width).collect();
            let line = |cells: Vec<&str>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| {
                        let shown: String = c.chars().take(*w).collect();
                        format!("{shown:<w$}", w = *w)
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
            };
            if !header.is_empty() {
                writeln!(out, "{}", line(header.iter().map(String::as_str).collect()))?;
            }
            for row in &flat {
                writeln!(
                    out,
                    "{}",
                    line(row.iter().map(|(_, v)| v.as_str()).collect())
                )?;
            }
            writeln!(out, "({total} rows)")?;
        }
    }
    Ok(())
}
