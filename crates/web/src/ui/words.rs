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
    ("activity", "Activity", "活动"),
    ("activity_kind", "Type", "类型"),
    ("attach_to_existing", "Use existing", "使用现有记录"),
    (
        "bad_datetime",
        "Enter a date and time, such as 2026-11-27 14:30.",
        "请输入日期和时间，例如 2026-11-27 14:30。",
    ),
    ("board", "Board", "看板"),
    (
        "board_hint",
        "Drag a card to another column to change its stage, or open it and use its path.",
        "将卡片拖到另一列即可更改阶段，也可以打开记录使用阶段路径。",
    ),
    ("call", "Call", "电话"),
    ("cancel", "Cancel", "取消"),
    ("clone", "Clone", "克隆"),
    ("comments", "Comments", "备注"),
    ("convert", "Convert", "转换"),
    ("convert_lead", "Convert lead", "转换潜在客户"),
    ("converted_status", "Converted status", "转换后状态"),
    ("count", "Count", "数量"),
    ("create_new", "Create new", "新建"),
    ("date", "Date", "日期"),
    ("delete", "Delete", "删除"),
    ("details", "Details", "详细信息"),
    ("due_date", "Due date", "到期日"),
    ("edit", "Edit", "编辑"),
    ("export_csv", "Export CSV", "导出 CSV"),
    ("field", "Field", "字段"),
    ("field_history", "Field history", "字段历史记录"),
    ("first_page", "First page", "第一页"),
    ("items", "items", "条"),
    (
        "lead_converted",
        "This lead was converted into:",
        "此潜在客户已转换为：",
    ),
    ("list", "List", "列表"),
    ("log_a_call", "Log a call", "记录电话"),
    ("lookup_none", "Nothing matches", "没有匹配的记录："),
    ("lookup_placeholder", "Type a name", "输入名称"),
    (
        "lookup_several",
        "Several records match; type more of the name, or paste one of these ids:",
        "有多条记录匹配；请输入更完整的名称，或粘贴以下 ID 之一：",
    ),
    ("mark_as", "Mark as", "标记为"),
    ("more", "More…", "更多…"),
    ("my_open_tasks", "My open tasks", "我的未完成任务"),
    ("my_pipeline", "My open pipeline", "我的未结业务"),
    ("new", "New", "新建"),
    ("new_task", "New task", "新建任务"),
    ("new_value", "New value", "新值"),
    ("next_page", "Next page", "下一页"),
    ("no_events_today", "No events today.", "今天没有日程。"),
    ("no_open_deals", "No open deals.", "没有未结业务机会。"),
    ("no_open_tasks", "No open tasks.", "没有未完成的任务。"),
    (
        "no_opportunity",
        "Do not create one on conversion",
        "转换时不创建",
    ),
    ("no_records", "No records to show.", "没有可显示的记录。"),
    ("none_chosen", "--None--", "--无--"),
    ("none_yet", "None yet.", "暂无。"),
    (
        "not_found_text",
        "It does not exist, or you do not have access to it.",
        "该记录不存在，或您无权访问。",
    ),
    ("not_found_title", "Not found", "未找到"),
    ("nothing_found", "Nothing found.", "没有找到结果。"),
    ("objects", "Objects", "对象"),
    ("old_value", "Old value", "原值"),
    ("open_board", "Open the board", "打开看板"),
    ("pages", "Pages", "分页"),
    ("path", "Path", "路径"),
    ("recycle_bin", "Recycle bin", "回收站"),
    ("recently_viewed", "Recently viewed", "最近查看"),
    (
        "nothing_viewed",
        "Records you open show here.",
        "您打开的记录会显示在这里。",
    ),
    ("why_lost_title", "Why was this deal lost?", "为什么丢单？"),
    ("why_lost", "Reason", "原因"),
    (
        "why_lost_hint",
        "The reason is kept in the deal's activity history.",
        "原因将保存在该业务机会的活动历史中。",
    ),
    ("close_as_lost", "Close as lost", "标记为丢单"),
    ("sharing", "Who can see this", "谁可以查看此记录"),
    (
        "sharing_private",
        "Private: besides users who may view all data, only the users below can see it.",
        "私有：除可查看所有数据的用户外，只有以下用户可以查看。",
    ),
    (
        "sharing_public_read",
        "Public Read Only: every user can see it; its owner and those above them can edit it.",
        "公用只读：所有用户均可查看；所有人及其上级可以编辑。",
    ),
    (
        "sharing_public_read_write",
        "Public Read/Write: every user can see and edit it.",
        "公用读写：所有用户均可查看和编辑。",
    ),
    (
        "sharing_by_parent",
        "Controlled by parent: whoever can see its parent record can see it.",
        "由父记录控制：可以查看其父记录的用户即可查看。",
    ),
    (
        "why_owner",
        "Owner, and those above them in the role hierarchy",
        "所有人及其在角色层级中的上级",
    ),
    ("why_related", "Owns a related", "拥有相关的"),
    ("why_manual", "Shared by hand", "手动共享"),
    ("share_by_hand", "Share by hand", "手动共享"),
    (
        "share_with",
        "With (a user's login or a public group's name)",
        "共享给（用户的登录名或公用小组的名称）",
    ),
    ("share_access", "Access", "访问权限"),
    ("access_read", "Read only", "只读"),
    ("access_edit", "Read/Write", "读写"),
    (
        "access_none",
        "None (take the share away)",
        "无（撤销共享）",
    ),
    ("share", "Share", "共享"),
    (
        "share_with_missing",
        "Name a user (their login) or a public group to share with.",
        "请填写要共享给的用户（登录名）或公用小组。",
    ),
    ("why_rule", "Sharing rule", "共享规则"),
    ("more_items", "more after these", "后面还有更多"),
    ("count_all", "Count them all", "统计总数"),
    ("filters_and_columns", "Filters and columns", "筛选条件和列"),
    ("operator", "Operator", "运算符"),
    ("value", "Value", "值"),
    ("columns", "Columns", "列"),
    ("apply", "Apply", "应用"),
    ("save_view_as", "Save this view as", "将此视图另存为"),
    ("save_view", "Save view", "保存视图"),
    ("delete_view", "Delete view", "删除视图"),
    ("op_eq", "equals", "等于"),
    ("op_ne", "not equal to", "不等于"),
    ("op_contains", "contains", "包含"),
    ("op_starts", "starts with", "起始字符"),
    ("op_lt", "less than", "小于"),
    ("op_gt", "greater than", "大于"),
    ("op_le", "less or equal", "小于或等于"),
    ("op_ge", "greater or equal", "大于或等于"),
    (
        "filter_no_field",
        "not a field you can filter on",
        "不是可筛选的字段",
    ),
    (
        "filter_text_only",
        "“contains” and “starts with” work on text fields only",
        "“包含”和“起始字符”只适用于文本字段",
    ),
    ("filter_bad_operator", "unknown operator", "未知的运算符"),
    ("filter_number", "enter a number", "请输入数字"),
    (
        "filter_date",
        "enter a date such as 2026-11-27, or TODAY, THIS_MONTH, LAST_N_DAYS:30",
        "请输入日期，例如 2026-11-27，或 TODAY、THIS_MONTH、LAST_N_DAYS:30",
    ),
    ("filter_checkbox", "enter yes or no", "请输入“是”或“否”"),
    ("filter_id", "enter a record id", "请输入记录 ID"),
    ("forecast", "Forecast", "预测"),
    ("periods", "Periods", "期间"),
    (
        "no_forecast",
        "No deals close in this period.",
        "此期间没有要结束的业务机会。",
    ),
    ("quota", "Quota", "配额"),
    ("attainment", "Attained", "完成率"),
    ("total", "Total", "合计"),
    ("new_event", "New event", "新建日程"),
    ("event_start", "Event starts", "日程开始时间"),
    ("event_minutes", "Minutes", "时长（分钟）"),
    ("action", "Action", "操作"),
    ("change_owner", "Change owner", "更改所有人"),
    ("update_field", "Update a field", "更新字段"),
    ("field_to_update", "Field to update", "要更新的字段"),
    ("new_value", "New value", "新值"),
    (
        "choose_field",
        "Choose a field to update.",
        "请选择要更新的字段。",
    ),
    ("apply_to_selected", "Apply to selected", "应用于所选记录"),
    ("select", "Select", "选择"),
    ("mass_done_title", "Changes made", "已完成更改"),
    ("records_changed", "Records changed", "已更改的记录"),
    (
        "records_refused",
        "These were refused:",
        "以下记录未能更改：",
    ),
    ("back_to_list", "Back to the list", "返回列表"),
    (
        "recycle_bin_hint",
        "Deleted records stay here for 15 days.",
        "已删除的记录在此保留 15 天。",
    ),
    (
        "recycle_bin_empty",
        "The recycle bin is empty.",
        "回收站为空。",
    ),
    ("name", "Name", "名称"),
    ("deleted_at", "Deleted", "删除时间"),
    ("undelete", "Undelete", "恢复"),
    ("required_field", "Enter a value.", "请输入值。"),
    ("results_for", "Results for", "搜索结果："),
    ("search", "Search", "搜索"),
    ("search_placeholder", "Search… (press /)", "搜索…（按 /）"),
    (
        "search_unusable",
        "Type a word or a number to search for.",
        "请输入要搜索的文字或数字。",
    ),
    ("subject", "Subject", "主题"),
    ("system_information", "System information", "系统信息"),
    ("todays_events", "Today's events", "今天的日程"),
    ("view_all", "All", "全部"),
    ("view_mine", "Mine", "我的"),
    ("views", "Views", "视图"),
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
