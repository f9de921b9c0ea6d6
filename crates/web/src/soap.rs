//! The SOAP `login()` call (`POST /services/Soap/u/{version}`) that jsforce's `login()` and
//! Salesforce tools use: username and password in, a session id (an access token) and the
//! server URL out. Only `login` is spoken; other SOAP calls answer a fault.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use model::Value;

use crate::AppState;
use crate::error::ApiError;
use crate::oauth::instance_url;
use crate::versions::parse_version;

/// The text of the first element whose local name is `name` (any namespace prefix), with
/// XML entities decoded.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let tag_name = tag.split_whitespace().next().unwrap_or("");
        let local = tag_name.rsplit(':').next().unwrap_or(tag_name);
        if local == name && !tag.ends_with('/') {
            let body = &rest[end + 1..];
            let close = body.find("</")?;
            return Some(unescape(&body[..close]));
        }
        rest = &rest[end + 1..];
    }
    None
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    response
}

/// A SOAP fault, answered with HTTP 500 as SOAP requires.
fn fault(code: &str, message: &str) -> Response {
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#,
        message = escape(message)
    );
    xml_response(StatusCode::INTERNAL_SERVER_ERROR, body)
}

pub async fn login(
    State(state): State<AppState>,
    Path(version): Path<String>,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    let Some(major) = parse_version(&version) else {
        return Ok(fault(
            "UNSUPPORTED_API_VERSION",
            &format!("Invalid Api version specified on URL: {version}"),
        ));
    };
    if element_text(&body, "login").is_none()
        && !body.contains(":login")
        && !body.contains("<login")
    {
        return Ok(fault(
            "INVALID_OPERATION",
            "Only the login call is supported on this endpoint",
        ));
    }
    let (Some(username), Some(password)) = (
        element_text(&body, "username"),
        element_text(&body, "password"),
    ) else {
        return Ok(fault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
        ));
    };
    let source = crate::oauth::source(connect);
    let Some(grant) = state
        .app
        .password_login(username.trim(), &password, &source)
        .await?
    else {
        return Ok(fault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
        ));
    };
    let instance = instance_url(&headers);
    let caller = app::Caller::user(grant.user_id.clone(), model::Lang::En);
    let fields: Vec<String> = [
        "Username",
        "Email",
        "Name",
        "LanguageLocaleKey",
        "LocaleSidKey",
        "TimeZoneSidKey",
        "ProfileId",
        "UserRoleId",
    ]
    .map(String::from)
    .to_vec();
    let user = state
        .app
        .get(&caller, "User", &grant.user_id.to_18(), Some(&fields))
        .await?;
    let org = state.app.org_settings().await?;
    let text = |name: &str| escape(&user.get(name).map(Value::to_display).unwrap_or_default());
    let org15 = grant.org_id.as_str15();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result><metadataServerUrl>{instance}/services/Soap/m/{major}.0/{org15}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>{instance}/services/Soap/u/{major}.0/{org15}</serverUrl><sessionId>{session}</sessionId><userId>{user_id}</userId><userInfo><accessibilityMode>false</accessibilityMode><currencySymbol>{symbol}</currencySymbol><orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit><orgDefaultCurrencyIsoCode>{currency}</orgDefaultCurrencyIsoCode><orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments><orgHasPersonAccounts>false</orgHasPersonAccounts><organizationId>{org_id}</organizationId><organizationMultiCurrency>false</organizationMultiCurrency><organizationName>{org_name}</organizationName><profileId>{profile}</profileId><roleId>{role}</roleId><sessionSecondsValid>7200</sessionSecondsValid><userDefaultCurrencyIsoCode xsi:nil="true"/><userEmail>{email}</userEmail><userFullName>{name}</userFullName><userId>{user_id}</userId><userLanguage>{language}</userLanguage><userLocale>{locale}</userLocale><userName>{username}</userName><userTimeZone>{zone}</userTimeZone><userType>Standard</userType><userUiSkin>Theme3</userUiSkin></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"#,
        session = escape(&grant.access_token),
        user_id = grant.user_id.to_18(),
        org_id = grant.org_id.to_18(),
        symbol = escape(&org.currency_symbol),
        currency = escape(&org.currency),
        org_name = escape(&org.name),
        profile = text("ProfileId"),
        role = text("UserRoleId"),
        email = text("Email"),
        name = text("Name"),
        language = text("LanguageLocaleKey"),
        locale = text("LocaleSidKey"),
        username = text("Username"),
        zone = text("TimeZoneSidKey"),
    );
    Ok(xml_response(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_fields_are_found_under_any_prefix() {
        let jsforce = r#"<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>a@b.com</username><password>p&amp;w&lt;1</password></login></se:Body></se:Envelope>"#;
        assert_eq!(
            element_text(jsforce, "username").as_deref(),
            Some("a@b.com")
        );
        assert_eq!(element_text(jsforce, "password").as_deref(), Some("p&w<1"));
        let simple = r#"<env:Envelope><env:Header><urn:CallOptions><urn:client>x</urn:client></urn:CallOptions></env:Header><env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>u@x.cn</n1:username><n1:password>secret</n1:password></n1:login></env:Body></env:Envelope>"#;
        assert_eq!(element_text(simple, "username").as_deref(), Some("u@x.cn"));
        assert_eq!(element_text(simple, "password").as_deref(), Some("secret"));
        assert_eq!(element_text("<a><b/></a>", "b"), None);
        assert_eq!(element_text("<unclosed", "a"), None);
    }
}
