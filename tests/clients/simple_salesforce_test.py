"""Drives a running Rapport with the real simple-salesforce client.

simple-salesforce always builds https:// URLs on *.salesforce.com for logins and https://HOST
for the API, so a transport adapter sends every https request to the plain-http test server
instead. Arguments: BASE_URL TOKEN USERNAME PASSWORD CLIENT_ID CLIENT_SECRET.
"""
import sys
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

BASE, TOKEN, USERNAME, PASSWORD, CLIENT_ID, CLIENT_SECRET = sys.argv[1:7]
SERVER = urlsplit(BASE)
VERSION = "59.0"


class ToLocalHttp(HTTPAdapter):
    """Sends https://anything to the local plain-http server."""

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        request.url = urlunsplit(("http", SERVER.netloc, parts.path, parts.query, parts.fragment))
        kwargs["verify"] = False
        return super().send(request, **kwargs)


def session():
    s = requests.Session()
    s.mount("https://", ToLocalHttp())
    return s


checks = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        checks["passed"] += 1
    else:
        checks["failed"] += 1
        print(f"FAIL {name} {detail}")


def expect_error(name, call, exception, code):
    try:
        call()
    except exception as error:
        content = error.content if isinstance(error.content, list) else []
        got = content[0].get("errorCode") if content else None
        check(name, got == code, f"expected {code}, got {got}: {error.content}")
        return
    except Exception as error:  # noqa: BLE001 - report the unexpected kind
        check(name, False, f"expected {exception.__name__}, got {type(error).__name__}: {error}")
        return
    check(name, False, "no error raised")


sf = Salesforce(instance_url=BASE, session_id=TOKEN, version=VERSION, session=session())

# Describe.
described = sf.describe()
check("describe global", any(o["name"] == "Account" for o in described["sobjects"]))
account_describe = sf.Account.describe()
check("describe Account", any(f["name"] == "Ext__c" and f["externalId"] for f in account_describe["fields"]))
check("metadata", sf.Account.metadata()["objectDescribe"]["keyPrefix"] == "001")

# CRUD.
created = sf.Account.create({"Name": "Simple Co", "Industry": "Technology"})
check("create", created["success"] and created["id"].startswith("001"), created)
account_id = created["id"]
record = sf.Account.get(account_id)
check("get", record["Name"] == "Simple Co" and record["attributes"]["type"] == "Account", record)
check("update", sf.Account.update(account_id, {"Phone": "+86 10 1234 5678"}) == 204)
check("get after update", sf.Account.get(account_id)["Phone"] == "+86 10 1234 5678")
check("get 15-char id", sf.Account.get(account_id[:15])["Id"] == account_id)

# Upsert by external id: created, then updated; read by external id.
check("upsert create", sf.Account.upsert("Ext__c/SS-1", {"Name": "Upserted"}) == 201)
check("upsert update", sf.Account.upsert("Ext__c/SS-1", {"Name": "Upserted again"}) == 200)
check("get_by_custom_id", sf.Account.get_by_custom_id("Ext__c", "SS-1")["Name"] == "Upserted again")

# Collections and composite through restful().
collection = sf.restful(
    "composite/sobjects",
    method="POST",
    json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "One"},
        {"attributes": {"type": "Contact"}, "Email": "not-an-email"},
    ]},
)
check("collection create", collection[0]["success"] and not collection[1]["success"], collection)
check("collection statusCode", collection[1]["errors"][0]["statusCode"] in ("INVALID_EMAIL_ADDRESS", "REQUIRED_FIELD_MISSING"), collection)
composite = sf.restful(
    "composite",
    method="POST",
    json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": f"/services/data/v{VERSION}/sobjects/Account", "referenceId": "acct", "body": {"Name": "Composite Co"}},
        {"method": "POST", "url": f"/services/data/v{VERSION}/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Ref", "AccountId": "@{acct.id}"}},
    ]},
)
statuses = [r["httpStatusCode"] for r in composite["compositeResponse"]]
check("composite", statuses == [201, 201], composite)
contact = sf.Contact.get(composite["compositeResponse"][1]["body"]["id"])
check("composite reference", contact["AccountId"] == composite["compositeResponse"][0]["body"]["id"], contact)
check("limits", sf.limits()["DailyApiRequests"]["Max"] > 0)
check("api usage header", "api-usage" in sf.api_usage, sf.api_usage)

# Queries: a first page, query_all following nextRecordsUrl, parent paths, errors.
for batch in range(11):
    sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Lead"}, "LastName": f"P{batch}-{i}", "Company": "Paging Co"} for i in range(200)]})
first = sf.query("SELECT Id, LastName FROM Lead WHERE Company = 'Paging Co'")
check("query first page", first["totalSize"] == 2200 and len(first["records"]) == 2000 and not first["done"], first["totalSize"])
everything = sf.query_all("SELECT Id FROM Lead WHERE Company = 'Paging Co'")
check("query_all follows nextRecordsUrl", len(everything["records"]) == 2200, len(everything["records"]))
nested = sf.query("SELECT LastName, Account.Name FROM Contact WHERE Account.Name = 'Composite Co'")
check("parent path", nested["records"][0]["Account"]["Name"] == "Composite Co", nested)
searched = sf.search("FIND {Composite} RETURNING Account(Id, Name), Contact(Id, Account.Name)")
check("search", [r["attributes"]["type"] for r in searched["searchRecords"]] == ["Account"]
      and searched["searchRecords"][0]["Name"] == "Composite Co", searched)
quick = sf.quick_search("Composite Co")
check("quick_search", any(r["attributes"]["type"] == "Account" for r in quick["searchRecords"]), quick)
expect_error("malformed search", lambda: sf.search("FIND Composite"), SalesforceMalformedRequest, "MALFORMED_SEARCH")
check("count()", sf.query("SELECT COUNT() FROM Lead WHERE Company = 'Paging Co'")["totalSize"] == 2200)
expect_error("malformed query", lambda: sf.query("SELECT Id FORM Account"), SalesforceMalformedRequest, "MALFORMED_QUERY")
expect_error("unknown column", lambda: sf.query("SELECT Nope__c FROM Account"), SalesforceMalformedRequest, "INVALID_FIELD")

# Errors.
expect_error("unknown field", lambda: sf.Account.create({"Name": "x", "Nope__c": 1}), SalesforceMalformedRequest, "INVALID_FIELD")
expect_error("required field", lambda: sf.Account.create({"Industry": "Energy"}), SalesforceMalformedRequest, "REQUIRED_FIELD_MISSING")
expect_error("read-only field", lambda: sf.Account.update(account_id, {"CreatedDate": "2020-01-01T00:00:00Z"}),
             SalesforceMalformedRequest, "INVALID_FIELD_FOR_INSERT_UPDATE")
check("delete", sf.Account.delete(account_id) == 204)
expect_error("deleted record", lambda: sf.Account.get(account_id), SalesforceResourceNotFound, "NOT_FOUND")
in_bin = sf.query_all(f"SELECT Id, IsDeleted FROM Account WHERE Id = '{account_id}'", include_deleted=True)
check("query_all include_deleted", in_bin["records"][0]["IsDeleted"] is True, in_bin)
check("query skips the bin", sf.query(f"SELECT Id FROM Account WHERE Id = '{account_id}'")["totalSize"] == 0)
bad = Salesforce(instance_url=BASE, session_id="00D!not-a-token", version=VERSION, session=session())
expect_error("bad token", lambda: bad.describe(), SalesforceExpiredSession, "INVALID_SESSION_ID")

# Logins: the OAuth password grant and SOAP login(), both as simple-salesforce sends them.
oauth = Salesforce(username=USERNAME, password=PASSWORD, consumer_key=CLIENT_ID, consumer_secret=CLIENT_SECRET,
                   version=VERSION, session=session())
check("oauth password login", oauth.Account.describe()["name"] == "Account")
session_id, instance = SalesforceLogin(username=USERNAME, password=PASSWORD, security_token="", sf_version=VERSION, session=session())
check("soap login", bool(session_id) and instance.startswith("127.0.0.1"), (session_id, instance))
soap = Salesforce(session_id=session_id, instance=instance, version=VERSION, session=session())
check("soap session works", soap.Account.describe()["name"] == "Account")

print(f"{checks['passed']} passed, {checks['failed']} failed")
sys.exit(1 if checks["failed"] else 0)
