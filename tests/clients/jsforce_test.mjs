// Drives a running Rapport with the real jsforce client.
// Arguments: BASE_URL TOKEN USERNAME PASSWORD CLIENT_ID CLIENT_SECRET.
import { createRequire } from "node:module";
const require = createRequire(process.env.JSFORCE_DIR + "/");
const jsforce = require("jsforce");

const [base, token, username, password, clientId, clientSecret] = process.argv.slice(2);
const version = "59.0";
let passed = 0;
let failed = 0;
function check(name, condition, detail = "") {
  if (condition) passed++;
  else {
    failed++;
    console.log(`FAIL ${name} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
}
async function expectError(name, call, code) {
  try {
    await call();
    check(name, false, "no error");
  } catch (error) {
    // REST errors carry errorCode; SOAP faults only their "CODE: message" text.
    const ok = error.errorCode === code || error.name === code || String(error.message).startsWith(`${code}:`);
    check(name, ok, `expected ${code}, got ${error.errorCode} ${error.name}: ${error.message}`);
  }
}

const conn = new jsforce.Connection({ instanceUrl: base, accessToken: token, version });

const global = await conn.describeGlobal();
check("describeGlobal", global.sobjects.some((o) => o.name === "Account"));
const describe = await conn.describe("Account");
check("describe", describe.fields.some((f) => f.name === "Ext__c" && f.externalId));

const created = await conn.sobject("Account").create({ Name: "Js Co", Industry: "Energy" });
check("create", created.success && created.id.startsWith("001"), created);
const record = await conn.sobject("Account").retrieve(created.id);
check("retrieve", record.Name === "Js Co", record);
const updated = await conn.sobject("Account").update({ Id: created.id, Phone: "+1 555 0100" });
check("update", updated.success, updated);
const upserted = await conn.sobject("Account").upsert({ Name: "Js Upsert", Ext__c: "JS-1" }, "Ext__c");
check("upsert create", upserted.success, upserted);
const upsertedAgain = await conn.sobject("Account").upsert({ Name: "Js Upsert 2", Ext__c: "JS-1" }, "Ext__c");
check("upsert update", upsertedAgain.success, upsertedAgain);

// Arrays go through sObject Collections.
const many = await conn.sobject("Contact").create([{ LastName: "A" }, { LastName: "B" }, { FirstName: "no last name" }], { allOrNone: false });
check("collection create", many[0].success && many[1].success && !many[2].success, many);
check("collection error code", many[2].errors[0].errorCode === "REQUIRED_FIELD_MISSING" || many[2].errors[0].statusCode === "REQUIRED_FIELD_MISSING", many[2]);
const ids = [many[0].id, many[1].id];
const retrieved = await conn.sobject("Contact").retrieve(ids);
check("collection retrieve", retrieved.length === 2 && retrieved[0].LastName === "A", retrieved);
const changed = await conn.sobject("Contact").update(ids.map((Id) => ({ Id, Title: "Buyer" })));
check("collection update", changed.every((r) => r.success), changed);
const upsertMany = await conn.sobject("Account").upsert([{ Name: "U1", Ext__c: "JS-2" }, { Name: "U2", Ext__c: "JS-3" }], "Ext__c");
check("collection upsert", upsertMany.every((r) => r.success), upsertMany);
const destroyed = await conn.sobject("Contact").destroy(ids);
check("collection destroy", destroyed.every((r) => r.success), destroyed);

const composite = await conn.requestPost("/composite", {
  allOrNone: true,
  compositeRequest: [
    { method: "POST", url: `/services/data/v${version}/sobjects/Account`, referenceId: "acct", body: { Name: "Js Composite" } },
    { method: "POST", url: `/services/data/v${version}/sobjects/Contact`, referenceId: "con", body: { LastName: "Ref", AccountId: "@{acct.id}" } },
    { method: "POST", url: `/services/data/v${version}/sobjects/Contact`, referenceId: "bad", body: { Nope__c: 1 } },
  ],
});
const codes = composite.compositeResponse.map((r) => r.httpStatusCode);
check("composite all-or-none rolls back", codes.every((c) => c === 400), codes);
const halted = composite.compositeResponse[0].body[0].errorCode;
check("composite halted", halted === "PROCESSING_HALTED", composite.compositeResponse[0]);

// Queries: a page, autoFetch across pages, the find() builder, parent paths.
const leads = Array.from({ length: 2100 }, (_, i) => ({ LastName: `J${i}`, Company: "Js Paging" }));
const createdLeads = await conn.sobject("Lead").create(leads, { allowRecursive: true });
check("recursive create", createdLeads.length === 2100 && createdLeads.every((r) => r.success), createdLeads.length);
const page = await conn.query("SELECT Id, LastName FROM Lead WHERE Company = 'Js Paging'");
check("query page", page.totalSize === 2100 && page.records.length === 2000 && !page.done, { totalSize: page.totalSize, done: page.done });
const fetched = await conn.query("SELECT Id FROM Lead WHERE Company = 'Js Paging'").run({ autoFetch: true, maxFetch: 5000 });
check("autoFetch", fetched.records.length === 2100, fetched.records.length);
const found = await conn.sobject("Account").find({ Name: { $like: "Js%" } }, ["Id", "Name"]).sort("Name").limit(10);
check("find builder", found.length >= 1 && found.every((r) => r.Name.startsWith("Js")), found);
const nested = await conn.query("SELECT LastName, Account.Name FROM Contact WHERE Account.Name = 'Js Co'");
check("parent path", nested.totalSize === 0 || nested.records[0].Account.Name === "Js Co", nested);
await expectError("malformed query", () => conn.query("SELECT Id FORM Account"), "MALFORMED_QUERY");
const searched = await conn.search("FIND {Js*} IN NAME FIELDS RETURNING Account(Id, Name ORDER BY Name)");
check("search", searched.searchRecords.length === found.length && searched.searchRecords.every((r, i) => r.Name === found[i].Name && r.attributes.type === "Account"), searched);
await expectError("malformed search", () => conn.search("FIND Js"), "MALFORMED_SEARCH");

const limits = await conn.limits();
check("limits", limits.DailyApiRequests.Max > 0, limits);
check("limit info", conn.limitInfo && conn.limitInfo.apiUsage && conn.limitInfo.apiUsage.limit > 0, conn.limitInfo);

await expectError("unknown field", () => conn.sobject("Account").create({ Name: "x", Nope__c: 1 }), "INVALID_FIELD");
await expectError("bad picklist", () => conn.sobject("Opportunity").create({ Name: "x", StageName: "Dreaming", CloseDate: "2030-01-01" }), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
const gone = await conn.sobject("Account").destroy(created.id);
check("destroy", gone.success, gone);
await expectError("deleted record", () => conn.sobject("Account").retrieve(created.id), "NOT_FOUND");
const bad = new jsforce.Connection({ instanceUrl: base, accessToken: "00D!not-a-token", version });
await expectError("bad token", () => bad.describeGlobal(), "INVALID_SESSION_ID");

// login() through SOAP, and the OAuth password grant.
const soap = new jsforce.Connection({ loginUrl: base, version });
const soapUser = await soap.login(username, password);
check("soap login", soapUser.id && soap.accessToken && soap.instanceUrl === base, { user: soapUser, instanceUrl: soap.instanceUrl });
check("soap session works", (await soap.describe("Account")).name === "Account");
await expectError("soap bad password", () => new jsforce.Connection({ loginUrl: base, version }).login(username, "wrong-password1"), "INVALID_LOGIN");
const oauth = new jsforce.Connection({ oauth2: { loginUrl: base, clientId, clientSecret }, version });
const oauthUser = await oauth.login(username, password);
check("oauth password login", oauthUser.id && oauth.accessToken, oauthUser);
check("oauth session works", (await oauth.describe("Contact")).name === "Contact");
const identity = await oauth.identity();
check("identity", identity.username === username, identity);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
