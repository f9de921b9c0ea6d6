//! Command-line parsing and dispatch. Every command opens the database (creating or migrating
//! it) and runs one use case of `app`.

use std::io::Write;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use app::auth::DEFAULT_TOKEN_DAYS;
use app::setup::{FieldChange, NewField};
use app::users::NewUser;
use app::{App, AppError};
use model::{FieldType, Lang};

#[derive(Parser)]
#[command(
    name = "rapport",
    version,
    about = "Rapport: a self-hosted, Salesforce-compatible CRM"
)]
pub struct Cli {
    /// The database: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "RAPPORT_DATABASE_URL",
        default_value = "sqlite://rapport.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server (creating or migrating the database first).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// API requests per second allowed per token (0: no limit).
        #[arg(long, default_value_t = 0)]
        rate_limit: u32,
        /// API requests allowed a day (reported by /limits).
        #[arg(long, default_value_t = 5_000_000)]
        daily_requests: u64,
        /// Largest request body, in megabytes.
        #[arg(long, default_value_t = 20)]
        max_body_mb: usize,
    },
    /// Creates or migrates the database, then exits.
    Migrate,
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Roles of the role hierarchy.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Profiles: what their users may do.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Record sharing: organisation-wide defaults.
    #[command(subcommand)]
    Sharing(SharingCommand),
    /// Public groups and queues.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Shares one record by hand (as its owner, or --as someone above them).
    Share {
        record: String,
        /// A user's login, or a public group's name.
        #[arg(long)]
        with: String,
        /// read or edit; none takes the share away.
        #[arg(long, default_value = "read")]
        access: String,
        /// Share as this user (default: the first administrator).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Prints a new API bearer token for a user.
    Token {
        #[arg(long)]
        user: String,
        /// Days until the token expires.
        #[arg(long, default_value_t = DEFAULT_TOKEN_DAYS)]
        days: i64,
    },
    /// Revokes an API token.
    RevokeToken { token: String },
    /// OAuth client applications.
    #[command(subcommand)]
    App(AppCommand),
    /// Custom fields.
    #[command(subcommand)]
    Field(FieldCommand),
    /// Custom objects.
    #[command(subcommand)]
    Object(ObjectCommand),
    /// Renames objects and fields (API names never change).
    #[command(subcommand)]
    Label(LabelCommand),
    /// The organisation's settings.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Fills the database with a demo company or synthetic volume.
    Seed(SeedArgs),
    /// Writes a consistent copy of the database while the server runs (SQLite: a database file;
    /// PostgreSQL: a pg_dump script).
    Backup { file: String },
    /// Benchmarks the record path against hand-written SQL (writes to the database given).
    Bench(BenchArgs),
    /// Empties the recycle bin of records deleted more than 15 days ago.
    PurgeRecycleBin,
    /// Runs a SOQL query and prints the result.
    Query {
        soql: String,
        /// Run as this user (default: the first administrator).
        #[arg(long = "as")]
        as_user: Option<String>,
        /// table, csv or json.
        #[arg(long, default_value = "table")]
        format: String,
        /// Include records in the recycle bin (queryAll).
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a user (the first user of a database becomes its System Administrator).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// "First Last".
        #[arg(long)]
        name: String,
        #[arg(long)]
        profile: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// en or zh_CN.
        #[arg(long, default_value = "en")]
        language: String,
    },
    /// Changes a user's role, profile, time zone or active flag.
    Update {
        email: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        profile: Option<String>,
        /// An IANA time zone of the org's list (Asia/Shanghai…).
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        active: Option<bool>,
        /// A new password (an administrator's reset; also ends a lockout).
        #[arg(long)]
        password: Option<String>,
    },
    /// A user's login history, newest first.
    Logins {
        email: String,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Registers a client application; prints its client id and secret (shown once).
    Add {
        #[arg(long)]
        name: String,
        /// The user the client-credentials grant acts as (default: the first administrator).
        #[arg(long)]
        run_as: Option<String>,
    },
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// Grants or revokes object permissions: `rapport profile object "Standard User" Account
    /// --grant read,create,edit,delete,view-all,modify-all` (or `--revoke …`).
    Object {
        profile: String,
        object: String,
        #[arg(
            long,
            value_delimiter = ',',
            conflicts_with = "revoke",
            required_unless_present = "revoke"
        )]
        grant: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        revoke: Vec<String>,
    },
    /// Field-level security: `rapport profile field "Standard User" Account.Site --access
    /// hidden|read-only|edit`.
    Field {
        profile: String,
        field: String,
        #[arg(long)]
        access: String,
    },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Adds a public group, or (`--queue`) a queue that can own leads and cases.
    Add {
        name: String,
        #[arg(long)]
        queue: bool,
    },
    /// Group membership.
    #[command(subcommand)]
    Member(MemberCommand),
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Adds a user (by login) or a public group (by name) to a group or queue.
    Add { group: String, member: String },
    /// Takes a user (by login) or a group (by name) out of a group or queue.
    Remove { group: String, member: String },
}

#[derive(Subcommand)]
enum SharingCommand {
    /// Sets an object's organisation-wide default: private, public-read-only,
    /// public-read-write or controlled-by-parent.
    Default { object: String, level: String },
    /// Builds the share rows of private objects that are not current (a running server
    /// does this by itself within seconds of a change).
    Rebuild,
    /// Checks every private object's share rows against the sharing rules; lists each
    /// difference and fails if there is one.
    Check,
    /// Sharing rules.
    #[command(subcommand)]
    Rule(RuleCommand),
}

#[derive(Subcommand)]
enum RuleCommand {
    /// Shares records owned by a role (`--owned-by-role`), or matching criteria (`--where
    /// "Industry = 'Energy'"`), with a role: `rapport sharing rule add Account --name N
    /// --owned-by-role East --share-with-role West --access read`.
    Add {
        object: String,
        #[arg(long)]
        name: String,
        #[arg(
            long,
            conflicts_with = "criteria",
            required_unless_present = "criteria"
        )]
        owned_by_role: Option<String>,
        #[arg(long)]
        include_subordinates: bool,
        #[arg(long = "where")]
        criteria: Option<String>,
        #[arg(long, required_unless_present = "share_with_group")]
        share_with_role: Option<String>,
        #[arg(long, conflicts_with = "share_with_role")]
        share_with_group: Option<String>,
        #[arg(long)]
        share_with_subordinates: bool,
        /// read or edit.
        #[arg(long, default_value = "read")]
        access: String,
    },
    /// Removes a sharing rule.
    Remove { object: String, name: String },
    /// Lists the sharing rules (of one object, or all).
    List { object: Option<String> },
}

#[derive(Subcommand)]
enum RoleCommand {
    /// Adds a role, optionally under a parent role.
    Add {
        name: String,
        #[arg(long)]
        parent: Option<String>,
    },
}

#[derive(Args)]
struct FieldSpec {
    /// Label in English.
    #[arg(long)]
    label: Option<String>,
    /// Label in Chinese.
    #[arg(long)]
    label_zh: Option<String>,
    #[arg(long)]
    length: Option<u32>,
    #[arg(long)]
    precision: Option<u8>,
    #[arg(long)]
    scale: Option<u8>,
    /// Picklist values, comma-separated.
    #[arg(long, value_delimiter = ',')]
    values: Option<Vec<String>>,
    #[arg(long)]
    required: Option<bool>,
    #[arg(long)]
    unique: Option<bool>,
    #[arg(long)]
    external_id: Option<bool>,
    /// Record changes in the object's field history.
    #[arg(long)]
    track: Option<bool>,
}

#[derive(Subcommand)]
enum FieldCommand {
    /// Adds a custom field: TYPE is Text, TextArea, LongTextArea, Email, Phone, Url, Picklist,
    /// MultiPicklist, Checkbox, Number, Currency, Percent, Date, DateTime, AutoNumber or Lookup.
    Add {
        object: String,
        api_name: String,
        #[arg(long = "type")]
        field_type: String,
        /// For lookups: the object it points to.
        #[arg(long)]
        to: Option<String>,
        /// Default value (for auto numbers: the display format, e.g. PRJ-{0000}).
        #[arg(long)]
        default: Option<String>,
        #[command(flatten)]
        spec: FieldSpec,
    },
    /// Changes a field (label, length, digits, values, type between compatible types…).
    Change {
        object: String,
        api_name: String,
        #[arg(long = "type")]
        field_type: Option<String>,
        #[command(flatten)]
        spec: FieldSpec,
    },
    /// Removes a custom field and its data.
    Remove { object: String, api_name: String },
    /// Maps a custom lead field to a custom field of the account, contact or opportunity a
    /// conversion makes: `rapport field map Lead.Region__c Account.Region__c`.
    Map { lead_field: String, target: String },
    /// Removes a lead field's mapping.
    Unmap { lead_field: String },
    /// Lists the lead field mappings.
    Mappings,
}

#[derive(Subcommand)]
enum ObjectCommand {
    /// Adds a custom object (API name ending in __c).
    Add {
        api_name: String,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        plural: Option<String>,
        #[arg(long)]
        label_zh: Option<String>,
        #[arg(long)]
        plural_zh: Option<String>,
    },
    /// Removes a custom object and all its records.
    Remove { api_name: String },
}

#[derive(Subcommand)]
enum LabelCommand {
    /// Sets the label of OBJECT or OBJECT.FIELD.
    Set {
        target: String,
        #[arg(long)]
        singular: String,
        #[arg(long)]
        plural: Option<String>,
        /// en or zh_CN.
        #[arg(long, default_value = "en")]
        lang: String,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Sets name, currency, currency-symbol, fiscal-year-start-month, language, locale or time-zone.
    Set { key: String, value: String },
    /// Prints the settings.
    Show,
}

#[derive(Args)]
struct SeedArgs {
    /// A realistic demo company in English and Chinese.
    #[arg(long, conflicts_with = "scale")]
    demo: bool,
    /// N synthetic accounts with contacts and opportunities.
    #[arg(long)]
    scale: Option<u64>,
    #[arg(long, default_value_t = 1)]
    contacts_per_account: u32,
    #[arg(long, default_value_t = 1)]
    opportunities_per_account: u32,
    /// Accounts per transaction.
    #[arg(long, default_value_t = 2_000)]
    batch: u64,
    /// With --scale: users to create (Standard User) and spread the records over.
    #[arg(long, default_value_t = 0)]
    users: u32,
    /// With --users: roles to put them in (a tree: one top role, four under it, the rest
    /// under those).
    #[arg(long, default_value_t = 20)]
    roles: u32,
}

#[derive(Subcommand)]
enum BenchTarget {
    /// Load over HTTP: N keep-alive connections against a server of this process.
    Http {
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds per round.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// The server's per-token rate limit (0: none).
        #[arg(long, default_value_t = 0)]
        rate_limit: u32,
    },
    /// The web UI's pages under load (home, list view, record page, board) as one
    /// signed-in user, beside the REST API answering the list's question.
    Ui {
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Seconds per round.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// The user to sign in as (a user of `seed --scale … --users N`).
        #[arg(long, default_value = "scale.user199@example.com")]
        user: String,
        #[arg(long, default_value = app::seed::DEMO_PASSWORD)]
        password: String,
    },
    /// SOQL and SOSL on a seeded org (`seed --scale 1000000` first), beside hand-written SQL.
    Query {
        /// Timed runs of each side per benchmark (after one warm-up run).
        #[arg(long, default_value_t = 21)]
        iterations: usize,
        /// Only the benchmarks whose name contains this.
        #[arg(long)]
        only: Option<String>,
    },
    /// Bulk lead conversion beside the same records written by plain bulk calls.
    Convert {
        #[arg(long, default_value_t = 10_000)]
        leads: usize,
    },
    /// Moving opportunities to the next stage in bulk (history, snapshots, roll-ups) beside
    /// the same writes in hand-written SQL.
    Stages {
        #[arg(long, default_value_t = 10_000)]
        opportunities: usize,
    },
    /// List views as a sales rep beside the administrator (`seed --scale N --users 200`).
    Sharing {
        #[arg(long, default_value_t = 21)]
        iterations: usize,
        /// The rep (default: the last scale user, in a role with no one below).
        #[arg(long, default_value = "scale.user199@example.com")]
        rep: String,
    },
}

#[derive(Args)]
struct BenchArgs {
    #[command(subcommand)]
    target: Option<BenchTarget>,
    #[arg(long, default_value_t = 100_000)]
    bulk_records: u64,
    #[arg(long, default_value_t = 200)]
    batch: u64,
    #[arg(long, default_value_t = 2_000)]
    single_inserts: u64,
    #[arg(long, default_value_t = 20_000)]
    reads: u64,
}

fn lang(text: &str) -> anyhow::Result<Lang> {
    Lang::parse(text).with_context(|| format!("unknown language {text}: use en or zh_CN"))
}

fn field_type(text: &str) -> anyhow::Result<FieldType> {
    FieldType::parse(text).with_context(|| {
        let names: Vec<&str> = FieldType::ALL
            .iter()
            .filter(|t| **t != FieldType::Id)
            .map(|t| t.as_str())
            .collect();
        format!(
            "unknown field type {text}: use one of {} (Lookup for a reference)",
            names.join(", ")
        )
    })
}

/// Turns an application error into a message naming the code, the message and the fields.
pub(crate) fn explain(error: AppError) -> anyhow::Error {
    let lines: Vec<String> = error
        .errors()
        .iter()
        .map(|e| {
            if e.fields.is_empty() {
                format!("{}: {}", e.code, e.message)
            } else {
                format!("{}: {} [{}]", e.code, e.message, e.fields.join(", "))
            }
        })
        .collect();
    if let AppError::Internal(cause) = &error {
        return anyhow::anyhow!("{cause}");
    }
    anyhow::anyhow!(lines.join("\n"))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let app = App::open(&cli.database)
        .await
        .map_err(explain)
        .with_context(|| format!("cannot open {}", app::redact_url(&cli.database)))?;
    let result = dispatch(&app, cli.command).await;
    app.close().await;
    result
}

async fn dispatch(app: &App, command: Command) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Serve {
            listen,
            rate_limit,
            daily_requests,
            max_body_mb,
        } => {
            drop(out);
            let limits = web::LimitSettings {
                requests_per_second: rate_limit,
                daily_requests,
                max_body_bytes: max_body_mb.saturating_mul(1024 * 1024),
            };
            serve(app.clone(), &listen, limits).await?;
        }
        Command::App(AppCommand::Add { name, run_as }) => {
            let (client_id, secret) = app
                .add_client_app(&name, run_as.as_deref())
                .await
                .map_err(explain)?;
            writeln!(out, "client_id: {client_id}\nclient_secret: {secret}")?;
        }
        Command::Migrate => writeln!(
            out,
            "database is up to date (schema version {})",
            app.store().schema_version().await?
        )?,
        Command::User(UserCommand::Add {
            email,
            password,
            name,
            profile,
            role,
            language,
        }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let user = NewUser {
                email,
                password,
                name,
                profile,
                role,
                language: lang(&language)?,
            };
            let id = app.add_user(&caller, user).await.map_err(explain)?;
            writeln!(out, "{id}")?;
        }
        Command::User(UserCommand::Update {
            email,
            role,
            profile,
            time_zone,
            active,
            password,
        }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            if let Some(password) = password {
                app.reset_password(&email, &password)
                    .await
                    .map_err(explain)?;
            }
            let change = app::users::UserChange {
                role,
                profile,
                time_zone,
                active,
            };
            if change.role.is_some()
                || change.profile.is_some()
                || change.time_zone.is_some()
                || change.active.is_some()
            {
                app.update_user(&caller, &email, change)
                    .await
                    .map_err(explain)?;
            }
            writeln!(out, "updated {email}")?;
        }
        Command::User(UserCommand::Logins { email, limit }) => {
            for entry in app
                .login_history(&email, limit.max(1))
                .await
                .map_err(explain)?
            {
                writeln!(
                    out,
                    "{}  {:<15} {:<14} {}",
                    entry.at,
                    if entry.source.is_empty() {
                        "-"
                    } else {
                        &entry.source
                    },
                    entry.method,
                    entry.result
                )?;
            }
        }
        Command::Profile(ProfileCommand::Object {
            profile,
            object,
            grant,
            revoke,
        }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let (names, on) = if grant.is_empty() {
                (revoke, false)
            } else {
                (grant, true)
            };
            let access = app
                .change_object_permissions(&caller, &profile, &object, &names, on)
                .await
                .map_err(explain)?;
            let held: Vec<&str> = app::access::ObjectAccess::NAMES
                .iter()
                .filter(|(name, _)| access.has(name))
                .map(|(name, _)| *name)
                .collect();
            writeln!(
                out,
                "{profile} on {object}: {}",
                if held.is_empty() {
                    "no access".to_string()
                } else {
                    held.join(", ")
                }
            )?;
        }
        Command::Profile(ProfileCommand::Field {
            profile,
            field,
            access,
        }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let level = app::access::FieldAccess::parse(&access).with_context(|| {
                format!("unknown access {access}: use hidden, read-only or edit")
            })?;
            app.set_field_access(&caller, &profile, &field, level)
                .await
                .map_err(explain)?;
            writeln!(out, "{profile}: {field} is {}", access.to_ascii_lowercase())?;
        }
        Command::Sharing(SharingCommand::Rule(RuleCommand::Add {
            object,
            name,
            owned_by_role,
            include_subordinates,
            criteria,
            share_with_role,
            share_with_group,
            share_with_subordinates,
            access,
        })) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let rule = app::sharing::SharingRule {
                object,
                name: name.clone(),
                owned_by_role,
                include_subordinates,
                criteria,
                share_with_role,
                share_with_group,
                share_with_subordinates,
                access: access.to_ascii_lowercase(),
                targets: Default::default(),
            };
            app.add_sharing_rule(&caller, rule).await.map_err(explain)?;
            writeln!(out, "added sharing rule {name}")?;
        }
        Command::Sharing(SharingCommand::Rule(RuleCommand::Remove { object, name })) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            if !app
                .remove_sharing_rule(&caller, &object, &name)
                .await
                .map_err(explain)?
            {
                bail!("{object} has no sharing rule named {name}");
            }
            writeln!(out, "removed sharing rule {name}")?;
        }
        Command::Sharing(SharingCommand::Rule(RuleCommand::List { object })) => {
            for rule in app
                .sharing_rules(object.as_deref())
                .await
                .map_err(explain)?
            {
                let from = match (&rule.owned_by_role, &rule.criteria) {
                    (Some(role), _) => format!(
                        "owned by {role}{}",
                        if rule.include_subordinates {
                            " and subordinates"
                        } else {
                            ""
                        }
                    ),
                    (None, Some(criteria)) => format!("where {criteria}"),
                    (None, None) => String::new(),
                };
                writeln!(
                    out,
                    "{}.{}: {from} -> {}{} ({})",
                    rule.object,
                    rule.name,
                    rule.share_with_role
                        .as_deref()
                        .or(rule.share_with_group.as_deref())
                        .unwrap_or_default(),
                    if rule.share_with_subordinates {
                        " and subordinates"
                    } else {
                        ""
                    },
                    rule.access
                )?;
            }
        }
        Command::Share {
            record,
            with,
            access,
            as_user,
        } => {
            let caller = app.cli_caller(as_user.as_deref()).await.map_err(explain)?;
            app.share_record(&caller, &record, &with, &access)
                .await
                .map_err(explain)?;
            let access = access.to_ascii_lowercase();
            if access == "none" {
                writeln!(out, "{record} is no longer shared by hand with {with}")?;
            } else {
                writeln!(out, "shared {record} with {with} ({access})")?;
            }
        }
        Command::Group(GroupCommand::Add { name, queue }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let id = app
                .add_group(&caller, &name, queue)
                .await
                .map_err(explain)?;
            writeln!(out, "{id}")?;
        }
        Command::Group(GroupCommand::Member(MemberCommand::Add { group, member })) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            app.add_group_member(&caller, &group, &member)
                .await
                .map_err(explain)?;
            writeln!(out, "{member} is in {group}")?;
        }
        Command::Group(GroupCommand::Member(MemberCommand::Remove { group, member })) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            app.remove_group_member(&caller, &group, &member)
                .await
                .map_err(explain)?;
            writeln!(out, "{member} is no longer in {group}")?;
        }
        Command::Sharing(SharingCommand::Default { object, level }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let sharing = app
                .set_sharing_default(&caller, &object, &level)
                .await
                .map_err(explain)?;
            writeln!(out, "{object}: {}", sharing.name())?;
        }
        Command::Sharing(SharingCommand::Rebuild) => {
            for (object, records) in app.rebuild_shares().await.map_err(explain)? {
                writeln!(out, "{object}: share rows rebuilt for {records} records")?;
            }
        }
        Command::Sharing(SharingCommand::Check) => {
            let problems = app.check_shares().await.map_err(explain)?;
            for problem in &problems {
                writeln!(out, "{problem}")?;
            }
            if !problems.is_empty() {
                bail!(
                    "{} share rows differ from the sharing rules",
                    problems.len()
                );
            }
            writeln!(out, "share rows match the sharing rules")?;
        }
        Command::Role(RoleCommand::Add { name, parent }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            writeln!(
                out,
                "{}",
                app.add_role(&caller, &name, parent.as_deref())
                    .await
                    .map_err(explain)?
            )?;
        }
        Command::Token { user, days } => writeln!(
            out,
            "{}",
            app.issue_token(&user, days).await.map_err(explain)?
        )?,
        Command::RevokeToken { token } => {
            if !app.revoke_token(&token).await.map_err(explain)? {
                bail!("no such token");
            }
        }
        Command::Field(FieldCommand::Add {
            object,
            api_name,
            field_type: type_name,
            to,
            default,
            spec,
        }) => {
            let new = NewField {
                object,
                name: api_name,
                field_type: Some(field_type(&type_name)?),
                label: spec.label,
                label_zh: spec.label_zh,
                length: spec.length,
                precision: spec.precision,
                scale: spec.scale,
                values: spec.values.unwrap_or_default(),
                required: spec.required.unwrap_or(false),
                unique: spec.unique.unwrap_or(false),
                external_id: spec.external_id.unwrap_or(false),
                reference_to: to,
                default,
                tracked: spec.track.unwrap_or(false),
            };
            let field = app.add_field(new).await.map_err(explain)?;
            writeln!(out, "added {} ({})", field.name, field.field_type.as_str())?;
        }
        Command::Field(FieldCommand::Map { lead_field, target }) => {
            let mapping = app
                .map_lead_field(&lead_field, &target)
                .await
                .map_err(explain)?;
            writeln!(
                out,
                "Lead.{} → {}.{}",
                mapping.lead_field, mapping.object, mapping.field
            )?;
        }
        Command::Field(FieldCommand::Unmap { lead_field }) => {
            if !app.unmap_lead_field(&lead_field).await.map_err(explain)? {
                bail!("{lead_field} is not mapped");
            }
            writeln!(out, "{lead_field} is no longer mapped")?;
        }
        Command::Field(FieldCommand::Mappings) => {
            for mapping in app.lead_mappings().await.map_err(explain)? {
                writeln!(
                    out,
                    "Lead.{} → {}.{}",
                    mapping.lead_field, mapping.object, mapping.field
                )?;
            }
        }
        Command::Field(FieldCommand::Change {
            object,
            api_name,
            field_type: type_name,
            spec,
        }) => {
            let change = FieldChange {
                field_type: type_name.as_deref().map(field_type).transpose()?,
                label: spec.label,
                label_zh: spec.label_zh,
                length: spec.length,
                precision: spec.precision,
                scale: spec.scale,
                values: spec.values,
                required: spec.required,
                unique: spec.unique,
                external_id: spec.external_id,
                tracked: spec.track,
            };
            let field = app
                .change_field(&object, &api_name, change)
                .await
                .map_err(explain)?;
            writeln!(
                out,
                "changed {} ({})",
                field.name,
                field.field_type.as_str()
            )?;
        }
        Command::Field(FieldCommand::Remove { object, api_name }) => {
            app.remove_field(&object, &api_name)
                .await
                .map_err(explain)?;
            writeln!(out, "removed {object}.{api_name}")?;
        }
        Command::Object(ObjectCommand::Add {
            api_name,
            label,
            plural,
            label_zh,
            plural_zh,
        }) => {
            let object = app
                .add_object(
                    &api_name,
                    label.as_deref(),
                    plural.as_deref(),
                    label_zh.as_deref(),
                    plural_zh.as_deref(),
                )
                .await
                .map_err(explain)?;
            writeln!(
                out,
                "added {} (key prefix {})",
                object.name, object.key_prefix
            )?;
        }
        Command::Object(ObjectCommand::Remove { api_name }) => {
            app.remove_object(&api_name).await.map_err(explain)?;
            writeln!(out, "removed {api_name}")?;
        }
        Command::Label(LabelCommand::Set {
            target,
            singular,
            plural,
            lang: language,
        }) => {
            app.set_label(&target, lang(&language)?, &singular, plural.as_deref())
                .await
                .map_err(explain)?;
            writeln!(out, "renamed {target}")?;
        }
        Command::Org(OrgCommand::Set { key, value }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            app.set_org(&caller, &key, &value).await.map_err(explain)?;
        }
        Command::Org(OrgCommand::Show) => {
            let org = app.org_settings().await.map_err(explain)?;
            writeln!(
                out,
                "name: {}\ncurrency: {}\ncurrency-symbol: {}\nfiscal-year-start-month: {}\nlanguage: {}\nlocale: {}\ntime-zone: {}",
                org.name,
                org.currency,
                org.currency_symbol,
                org.fiscal_year_start_month,
                org.language,
                org.locale,
                org.time_zone
            )?;
        }
        Command::Seed(args) => seed(app, args, &mut out).await?,
        Command::Backup { file } => {
            if std::path::Path::new(&file).exists() {
                bail!("{file} already exists");
            }
            if !app.store().backup_sqlite(&file).await? {
                // PostgreSQL: pg_dump takes a consistent snapshot while others write.
                let (url, password) = app::split_password(app.store().url());
                let mut pg_dump = tokio::process::Command::new("pg_dump");
                pg_dump
                    .arg(format!("--dbname={url}"))
                    .arg(format!("--file={file}"))
                    .arg("--no-owner");
                if let Some(password) = password {
                    pg_dump.env("PGPASSWORD", password);
                }
                let status = pg_dump
                    .status()
                    .await
                    .context("backing up PostgreSQL needs pg_dump on the PATH")?;
                if !status.success() {
                    bail!("pg_dump failed ({status})");
                }
            }
            writeln!(out, "wrote {file}")?;
        }
        Command::Bench(BenchArgs {
            target:
                Some(BenchTarget::Http {
                    connections,
                    seconds,
                    rate_limit,
                }),
            ..
        }) => {
            let options = crate::load::LoadOptions {
                connections: connections.max(1),
                seconds: seconds.max(0.5),
                rate_limit,
            };
            crate::load::run(app, options, &mut out).await?;
        }
        Command::Bench(BenchArgs {
            target:
                Some(BenchTarget::Ui {
                    connections,
                    seconds,
                    user,
                    password,
                }),
            ..
        }) => {
            let options = crate::load_ui::UiLoadOptions {
                connections: connections.max(1),
                seconds: seconds.max(0.5),
                email: user,
                password,
            };
            crate::load_ui::run(app, options, &mut out).await?;
        }
        Command::Bench(BenchArgs {
            target: Some(BenchTarget::Query { iterations, only }),
            ..
        }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            writeln!(out, "backend: {:?}", app.store().dialect())?;
            writeln!(
                out,
                "{:<34} {:>6} {:>12} {:>14} {:>8}",
                "benchmark (medians)", "rows", "rapport ms", "hand SQL ms", "ratio"
            )?;
            app.bench_queries(&caller, iterations.max(1), only.as_deref(), |line| {
                let _ = writeln!(
                    std::io::stdout(),
                    "{:<34} {:>6} {:>12.2} {:>14.2} {:>8.2}",
                    line.name,
                    line.rows,
                    line.rapport.as_secs_f64() * 1000.0,
                    line.baseline.as_secs_f64() * 1000.0,
                    line.ratio()
                );
            })
            .await
            .map_err(explain)?;
        }
        Command::Bench(BenchArgs {
            target: Some(BenchTarget::Convert { leads }),
            ..
        }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let bench = app.bench_convert(&caller, leads).await.map_err(explain)?;
            writeln!(out, "backend: {:?}", app.store().dialect())?;
            writeln!(
                out,
                "{:<44} {:>8} {:>12} {:>12} {:>8}",
                "benchmark", "leads", "rapport s", "plain s", "ratio"
            )?;
            writeln!(
                out,
                "{:<44} {:>8} {:>12.2} {:>12.2} {:>8.2}",
                "convert leads (200 per call) vs plain writes",
                bench.converted,
                bench.rapport.as_secs_f64(),
                bench.baseline.as_secs_f64(),
                bench.rapport.as_secs_f64() / bench.baseline.as_secs_f64().max(1e-9)
            )?;
            if bench.converted != bench.leads {
                bail!(
                    "only {} of {} leads converted",
                    bench.converted,
                    bench.leads
                );
            }
        }
        Command::Bench(BenchArgs {
            target: Some(BenchTarget::Stages { opportunities }),
            ..
        }) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let bench = app
                .bench_stage_moves(&caller, opportunities)
                .await
                .map_err(explain)?;
            writeln!(out, "backend: {:?}", app.store().dialect())?;
            writeln!(
                out,
                "{:<44} {:>8} {:>12} {:>12} {:>8}",
                "benchmark", "records", "rapport s", "hand SQL s", "ratio"
            )?;
            writeln!(
                out,
                "{:<44} {:>8} {:>12.2} {:>12.2} {:>8.2}",
                "move stage (200 per call) vs hand SQL",
                bench.moved,
                bench.rapport.as_secs_f64(),
                bench.baseline.as_secs_f64(),
                bench.rapport.as_secs_f64() / bench.baseline.as_secs_f64().max(1e-9)
            )?;
            if bench.moved != bench.opportunities {
                bail!(
                    "only {} of {} opportunities moved",
                    bench.moved,
                    bench.opportunities
                );
            }
        }
        Command::Bench(BenchArgs {
            target: Some(BenchTarget::Sharing { iterations, rep }),
            ..
        }) => {
            let admin = app.cli_caller(None).await.map_err(explain)?;
            let rep_caller = app.cli_caller(Some(&rep)).await.map_err(explain)?;
            writeln!(out, "backend: {:?}; rep: {rep}", app.store().dialect())?;
            writeln!(
                out,
                "{:<40} {:>6} {:>10} {:>10} {:>10}",
                "list view (medians)", "rows", "rep ms", "admin ms", "rep/admin"
            )?;
            app.bench_sharing(&admin, &rep_caller, iterations.max(1), |line| {
                let _ = writeln!(
                    std::io::stdout(),
                    "{:<40} {:>6} {:>10.2} {:>10.2} {:>10.2}",
                    line.name,
                    line.rows,
                    line.rapport.as_secs_f64() * 1000.0,
                    line.baseline.as_secs_f64() * 1000.0,
                    line.ratio()
                );
            })
            .await
            .map_err(explain)?;
        }
        Command::Bench(args) => {
            let caller = app.cli_caller(None).await.map_err(explain)?;
            let options = app::bench::BenchOptions {
                bulk_records: args.bulk_records,
                batch: args.batch,
                single_inserts: args.single_inserts,
                reads: args.reads,
                ..Default::default()
            };
            writeln!(out, "backend: {:?}", app.store().dialect())?;
            writeln!(
                out,
                "{:<28} {:>12} {:>14} {:>16} {:>8}",
                "benchmark", "records", "rapport rec/s", "hand SQL rec/s", "ratio"
            )?;
            app.bench(&caller, options, |line| {
                let _ = writeln!(
                    std::io::stdout(),
                    "{:<28} {:>12} {:>14.0} {:>16.0} {:>8.2}",
                    line.name,
                    line.count,
                    line.rapport_per_sec(),
                    line.baseline_per_sec(),
                    line.ratio()
                );
            })
            .await
            .map_err(explain)?;
        }
        Command::Query {
            soql,
            as_user,
            format,
            all,
        } => {
            let caller = app.cli_caller(as_user.as_deref()).await.map_err(explain)?;
            crate::output::query(app, &caller, &soql, all, &format, &mut out).await?;
        }
        Command::PurgeRecycleBin => writeln!(
            out,
            "purged {} record(s)",
            app.purge_expired().await.map_err(explain)?
        )?,
    }
    Ok(())
}

async fn seed(app: &App, args: SeedArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let caller = app.cli_caller(None).await.map_err(explain)?;
    let report = if args.demo {
        let report = app.seed_demo(&caller).await.map_err(explain)?;
        writeln!(out, "demo users' password: {}", app::seed::DEMO_PASSWORD)?;
        report
    } else if let Some(accounts) = args.scale {
        let started = std::time::Instant::now();
        let options = app::seed::ScaleOptions {
            accounts,
            contacts_per_account: args.contacts_per_account,
            opportunities_per_account: args.opportunities_per_account,
            batch: args.batch,
            users: args.users,
            roles: args.roles,
        };
        let report = app
            .seed_scale(&caller, options, |done| {
                let _ = writeln!(std::io::stderr(), "committed {done} accounts");
            })
            .await
            .map_err(explain)?;
        writeln!(out, "seeded in {:.1} s", started.elapsed().as_secs_f64())?;
        report
    } else {
        bail!("say --demo or --scale N");
    };
    for (object, count) in report.counts {
        writeln!(out, "{object}: {count}")?;
    }
    Ok(())
}

async fn serve(app: App, listen: &str, limits: web::LimitSettings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = %app::redact_url(app.store().url()), "rapport is listening on http://{address}");
    let purger = app.clone();
    let purge_task = tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(error) = purger.purge_expired().await {
                tracing::warn!(%error, "recycle bin purge failed");
            }
        }
    });
    // Share rows go stale when roles, groups, rules or defaults change; reads use the
    // sharing conditions meanwhile, and this rebuilds the rows behind them.
    let sharer = app.clone();
    let share_task = tokio::spawn(async move {
        let mut every_second = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            every_second.tick().await;
            match sharer.rebuild_shares_as_leader().await {
                Ok(built) => {
                    for (object, records) in built {
                        tracing::info!(%object, records, "share rows rebuilt");
                    }
                }
                Err(error) => tracing::warn!(%error, "rebuilding share rows failed"),
            }
        }
    });
    let compactor = app.clone();
    let compact_task = tokio::spawn(async move {
        let mut every_five_seconds = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every_five_seconds.tick().await;
            if let Err(error) = compactor.compact_summaries().await {
                tracing::warn!(%error, "compacting the pipeline summary and tallies failed");
            }
        }
    });
    web::serve(app, listener, limits, shutdown_signal()).await?;
    purge_task.abort();
    share_task.abort();
    compact_task.abort();
    tracing::info!("rapport stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
