//! Every word the UI shows, in English and Simplified Chinese, in one catalogue. Object and
//! field labels are not here: they come from metadata, so a rename shows everywhere.

use model::Lang;

/// (key, English, 简体中文).
const WORDS: &[(&str, &str, &str)] = &[
    ("app_name", "Rapport", "Rapport"),
    ("sign_in", "Sign in", "登录"),
    ("sign_in_title", "Sign in to Rapport", "登录 Rapport"),
    ("email", "Email", "电子邮件"),
    ("password", "Password", "密码"),
    ("sign_out", "Sign out", "退出"),
    ("signed_in_as", "Signed in as", "当前用户"),
    ("home", "Home", "主页"),
    ("settings", "Settings", "设置"),
    ("my_settings", "My settings", "我的设置"),
    ("language", "Language", "语言"),
    ("time_zone", "Time zone", "时区"),
    ("save", "Save", "保存"),
    ("saved", "Your settings are saved.", "设置已保存。"),
    ("change_password", "Change password", "修改密码"),
    ("current_password", "Current password", "当前密码"),
    ("new_password", "New password", "新密码"),
    ("repeat_password", "New password again", "再次输入新密码"),
    (
        "passwords_differ",
        "The two new passwords are not the same.",
        "两次输入的新密码不一致。",
    ),
    (
        "password_changed",
        "Your password is changed. Sign in with the new one.",
        "密码已修改，请用新密码登录。",
    ),
    (
        "login_failed",
        "That email and password do not match a user.",
        "电子邮件或密码不正确。",
    ),
    (
        "login_inactive",
        "This user is inactive. Ask an administrator.",
        "该用户已停用，请联系管理员。",
    ),
    (
        "login_locked",
        "Too many failed sign-ins. Try again after",
        "登录失败次数过多。请在此时间之后再试：",
    ),
    (
        "login_locked_tail",
        "(UTC), or ask an administrator to reset your password.",
        "（UTC），或请管理员重置密码。",
    ),
    ("signed_out", "You are signed out.", "您已退出。"),
    (
        "session_over",
        "Your session has ended. Sign in again.",
        "会话已结束，请重新登录。",
    ),
    (
        "forbidden_title",
        "This form cannot be accepted",
        "无法接受此表单",
    ),
    (
        "forbidden_text",
        "It has expired or did not come from this site. Go back, reload the page and try again.",
        "表单已过期或并非来自本站。请返回、刷新页面后重试。",
    ),
    ("welcome", "Welcome", "欢迎"),
    (
        "home_intro",
        "Your sales work starts here.",
        "您的销售工作从这里开始。",
    ),
    ("skip_to_content", "Skip to content", "跳到正文"),
];

/// The words of one language, for templates: `{{ w.get("sign_in") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    pub lang: Lang,
}

impl Words {
    pub fn new(lang: Lang) -> Words {
        Words { lang }
    }

    /// The word for `key`; the key itself when the catalogue lacks it (a test checks that
    /// every key the templates use exists).
    pub fn get<'k>(&self, key: &'k str) -> &'k str {
        match WORDS.iter().find(|(k, _, _)| *k == key) {
            Some((_, en, zh)) => match self.lang {
                Lang::En => en,
                Lang::ZhCn => zh,
            },
            None => key,
        }
    }

    /// The `lang` attribute of the page.
    pub fn html_lang(&self) -> &'static str {
        match self.lang {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a browser asks for (`Accept-Language`), for pages before sign-in.
    pub fn from_accept_language(header: Option<&str>) -> Words {
        let chinese = header
            .and_then(|h| h.split(',').next())
            .is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("zh"));
        Words::new(if chinese { Lang::ZhCn } else { Lang::En })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `w.get("…")` in the templates names a word of the catalogue.
    #[test]
    fn templates_use_only_catalogued_words() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("templates directory") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("template");
            for piece in text.split("w.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                assert!(
                    WORDS.iter().any(|(k, _, _)| *k == key),
                    "{}: no word {key}",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 10, "only {checked} words found");
    }

    #[test]
    fn every_word_has_both_languages() {
        for (key, en, zh) in WORDS {
            assert!(!en.is_empty() && !zh.is_empty(), "{key}");
        }
    }
}
