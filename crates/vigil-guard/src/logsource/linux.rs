//! The Linux logsources: which SigmaHQ Linux rules an event is evaluated by.
//!
//! Three kinds of Linux record reach the rules:
//!
//! * syslog lines (RFC 3164 or 5424, from `/var/log/syslog`, `auth.log`, `secure`, a
//!   collector): `service: syslog`, plus the service of the program that wrote the line
//!   (`sshd`, `cron`, `sudo`, `vsftpd`, `clamav`, `guacamole`), read from its app name;
//! * auditd records (`type=EXECVE msg=audit(...): ...`): `service: auditd`;
//! * Sysmon for Linux, as JSON in the EVTX shape with the `Linux-Sysmon/Operational`
//!   channel: the category of its EventID (`process_creation`, `network_connection`,
//!   `file_event`, ...).
//!
//! Rules with only `product: linux` (keyword rules over any Linux log) fit all three.

use rsigma_parser::LogSource;

/// The channel Sysmon for Linux writes to.
pub const SYSMON_LINUX_CHANNEL: &str = "Linux-Sysmon/Operational";

/// The Sigma service of a syslog program (its app name), when SigmaHQ has rules for it.
pub fn syslog_service(appname: &str) -> Option<&'static str> {
    // App names as daemons write them; `CRON` is Debian's, `crond` Red Hat's.
    let name = appname.rsplit('/').next().unwrap_or(appname);
    Some(match name.to_ascii_lowercase().as_str() {
        "sshd" | "sshd-session" => "sshd",
        "cron" | "crond" | "anacron" | "crontab" => "cron",
        "sudo" => "sudo",
        "vsftpd" => "vsftpd",
        "clamd" | "clamav" | "clamscan" | "freshclam" | "clamonacc" => "clamav",
        "guacd" | "guacamole" => "guacamole",
        "auditd" | "audispd" | "audisp-syslog" => "auditd",
        _ => return None,
    })
}

/// The Sigma category of a Sysmon for Linux event, by EventID.
pub fn sysmon_category(event_id: u64) -> Option<&'static str> {
    Some(match event_id {
        1 => "process_creation",
        3 => "network_connection",
        5 => "process_termination",
        9 => "raw_access_thread",
        11 => "file_event",
        23 => "file_delete",
        _ => return None,
    })
}

/// Where a Linux record came from: what decides its logsources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinuxSource {
    /// A syslog line, and the service of its program when known.
    Syslog(Option<&'static str>),
    /// An auditd record.
    Auditd,
    /// A Sysmon for Linux event, and the category of its EventID when known.
    Sysmon(Option<&'static str>),
}

impl LinuxSource {
    /// The logsources of a record of this source (rules fit when each of their
    /// dimensions is unset or equal to one of these).
    pub fn logsources(self) -> Vec<LogSource> {
        let ls = |service: Option<&str>, category: Option<&str>| LogSource {
            product: Some("linux".to_string()),
            service: service.map(str::to_string),
            category: category.map(str::to_string),
            ..LogSource::default()
        };
        match self {
            LinuxSource::Syslog(None) => vec![ls(Some("syslog"), None)],
            LinuxSource::Syslog(Some(s)) => vec![ls(Some("syslog"), None), ls(Some(s), None)],
            LinuxSource::Auditd => vec![ls(Some("auditd"), None)],
            LinuxSource::Sysmon(c) => vec![ls(None, c)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_and_event_ids_map_to_sigma_logsources() {
        assert_eq!(syslog_service("sshd"), Some("sshd"));
        assert_eq!(syslog_service("CRON"), Some("cron"));
        assert_eq!(syslog_service("/usr/sbin/cron"), Some("cron"));
        assert_eq!(syslog_service("freshclam"), Some("clamav"));
        assert_eq!(syslog_service("systemd"), None);
        assert_eq!(sysmon_category(1), Some("process_creation"));
        assert_eq!(sysmon_category(4), None);
        let ls = LinuxSource::Syslog(Some("sshd")).logsources();
        assert_eq!(ls.len(), 2);
        assert!(ls.iter().all(|l| l.product.as_deref() == Some("linux")));
        assert_eq!(ls[1].service.as_deref(), Some("sshd"));
        let ls = LinuxSource::Sysmon(Some("file_event")).logsources();
        assert_eq!(
            (ls[0].service.as_deref(), ls[0].category.as_deref()),
            (None, Some("file_event"))
        );
    }
}
