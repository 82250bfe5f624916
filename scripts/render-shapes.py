#!/usr/bin/env python3
"""Re-render Windows events as log collectors write them, to test `vigil guard` on them.

Input: events in the `evtx` crate's JSON shape (`{"Event": {"System": .., "EventData": ..}}`),
as SigmaHQ's regression `.json` files hold them, or as the scan example writes them from
EVTX files (`cargo run --release -p vigil-guard --example scan -- --dump-jsonl OUT x
FILE.evtx...`). Files may hold one document, an array, documents one after another, or
JSON lines.

Output, in OUT_DIR, one JSON object per line, the same events in the same order in each:

* `original.jsonl`: the input events, one per line (the baseline);
* `nxlog.jsonl`: NXLog `im_msvistalog` through `to_json()`: flat; `EventTime`,
  `Hostname`, `SourceName`, `EventType`, ... and the EventData/UserData fields at the
  top level as strings (CRLF as LF; a field named as one of NXLog's own, such as
  Sysmon's `EventType`, replaces it, except the event's identity: time, host, EventID,
  source, channel, record number); unnamed `<Data>` values only in the rendered
  `Message`;
* `winlogbeat6.jsonl`: Winlogbeat 6.x: `log_name`, `event_id`, `source_name`,
  `computer_name`, `record_number` (a string), `event_data.*`, `user_data.*` (values as
  strings, empty ones dropped, CRLF as LF, unnamed values as `param1`, `param2`, ...),
  `@timestamp`, `message`, `beat.*`, `host.name`;
* `ecs.jsonl`: Winlogbeat 8 / Elastic Agent (ECS): the same under `winlog.*`
  (`winlog.event_id` a string), plus `event.code`, `event.provider`, `host.name`,
  `log.level`, `agent.*`, `ecs.version`, and the ECS `process.*` / `user.*` copies of
  process creations.
* `elastic.jsonl`: the ECS events as Elasticsearch or OpenSearch give them back (an
  `elasticdump` export, or the `hits.hits[]` of a search): each wrapped in `_source`,
  beside `_index`, `_id` and `_score`.

Messages are rendered from the templates of the events whose rules read them (classic
PowerShell), as Sysmon renders its own, and as `Name: value` lines otherwise: close enough
to what Windows renders for matching, not a copy of Windows' message tables.

Usage: render-shapes.py --out OUT_DIR INPUT...
Python 3, standard library only.
"""

import argparse
import json
import os
import sys
from datetime import datetime, timezone

COLLECTOR_HOST = "collector01"

# Sysmon's own message headers, by EventID.
SYSMON_TASKS = {
    1: "Process Create", 2: "File creation time changed", 3: "Network connection detected",
    4: "Sysmon service state changed", 5: "Process terminated", 6: "Driver loaded",
    7: "Image loaded", 8: "CreateRemoteThread detected", 9: "RawAccessRead detected",
    10: "Process accessed", 11: "File created", 12: "Registry object added or deleted",
    13: "Registry value set", 14: "Registry object renamed", 15: "File stream created",
    16: "Sysmon config state changed", 17: "Pipe Created", 18: "Pipe Connected",
    19: "WmiEventFilter activity detected", 20: "WmiEventConsumer activity detected",
    21: "WmiEventConsumerToFilter activity detected", 22: "Dns query",
    23: "File Delete archived", 24: "Clipboard changed", 25: "Process Tampering",
    26: "File Delete logged", 27: "File Block Executable", 28: "File Block Shredding",
    29: "File Executable Detected",
}

# Windows PowerShell (classic) message templates: %1.. are the unnamed <Data> values.
POWERSHELL_CLASSIC = {
    400: "Engine state is changed from %2 to %1. \r\n\r\nDetails: \r\n%3",
    403: "Engine state is changed from %2 to %1. \r\n\r\nDetails: \r\n%3",
    600: 'Provider "%1" is %2. \r\n\r\nDetails: \r\n%3',
    800: "Pipeline execution details for command line: %1 . \r\n\r\n"
         "Context Information: \r\n%2\r\n\r\nDetails: \r\n%3",
}

LEVEL_NAMES = {0: "Information", 1: "Critical", 2: "Error", 3: "Warning",
               4: "Information", 5: "Verbose"}

KEYWORD_NAMES = [
    (0x0010000000000000, "Audit Failure"),
    (0x0020000000000000, "Audit Success"),
    (0x0080000000000000, "Classic"),
]


def read_events(path):
    """Every event object in a file: one document, an array, several, or JSON lines."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    decoder = json.JSONDecoder()
    pos, n = 0, len(text)
    while pos < n:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            break
        value, pos = decoder.raw_decode(text, pos)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                yield item


def attrs(value):
    return value.get("#attributes", {}) if isinstance(value, dict) else {}


def text_of(value):
    """The text of an element that may carry attributes."""
    if isinstance(value, dict):
        return value.get("#text")
    return value


def as_text(value):
    """A value as the XML rendering of the event writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def system_of(event):
    """The System block, from either attribute layout of the evtx crate."""
    system = event.get("System") or {}
    out = {}
    for key, value in system.items():
        if key.endswith("_attributes"):
            for a, v in (value or {}).items():
                out[f"{key[:-len('_attributes')]}_{a}"] = v
            continue
        for a, v in attrs(value).items():
            out[f"{key}_{a}"] = v
        text = text_of(value)
        if not isinstance(text, dict) and text is not None:
            out[key] = text
    return out


def data_of(event):
    """(named fields in order, unnamed values, user data wrapper name)."""
    named, unnamed, wrapper = [], [], None
    data = event.get("EventData")
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "#attributes":
                continue
            if key in ("Data", "#text"):
                value = text_of(value)
                if isinstance(value, list):
                    unnamed.extend(value)
                elif value is not None:
                    unnamed.append(value)
                continue
            named.append((key, text_of(value)))
    elif isinstance(data, list):
        unnamed.extend(data)
    elif data is not None:
        unnamed.append(data)
    user = event.get("UserData")
    if isinstance(user, dict):
        for key, inner in user.items():
            if key == "#attributes":
                continue
            wrapper = key
            if isinstance(inner, dict):
                for k, v in inner.items():
                    if k != "#attributes":
                        named.append((k, text_of(v)))
            else:
                named.append((key, inner))
    return named, unnamed, wrapper


def event_time(system):
    t = system.get("TimeCreated_SystemTime")
    if not t:
        return None
    t = t.rstrip("Z")
    date, _, frac = t.partition(".")
    try:
        dt = datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    micros = int((frac + "000000")[:6]) if frac.isdigit() else 0
    return dt.replace(microsecond=micros)


def keywords_value(system):
    try:
        return int(str(system.get("Keywords", "0")), 0)
    except ValueError:
        return 0


def message(system, named, unnamed):
    eid = int_or_none(system.get("EventID"))
    channel = system.get("Channel") or ""
    if channel == "Windows PowerShell" and eid in POWERSHELL_CLASSIC:
        msg = POWERSHELL_CLASSIC[eid]
        for i in range(len(unnamed), 0, -1):
            msg = msg.replace(f"%{i}", as_text(unnamed[i - 1]))
        return msg
    if channel == "Microsoft-Windows-Sysmon/Operational" and eid in SYSMON_TASKS:
        head = SYSMON_TASKS[eid] + ":"
    else:
        head = f"Event {eid}."
    lines = [head]
    lines += [f"{k}: {as_text(v)}" for k, v in named]
    lines += [as_text(v) for v in unnamed]
    return "\r\n".join(lines)


def int_or_none(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def beats_text(value):
    """Winlogbeat's RemoveWindowsLineEndings."""
    return as_text(value).replace("\r\n", "\n").rstrip("\n")


def beats_pairs(named, unnamed):
    """Winlogbeat's AddPairs: empty values dropped, unnamed ones as param1.. (by position)."""
    out = {}
    pairs = list(named) + [("", v) for v in unnamed]
    for i, (key, value) in enumerate(pairs):
        text = beats_text(value)
        if text == "":
            continue
        key = key if key not in ("", "Data") else f"param{i + 1}"
        out.setdefault(key, text)
    return out


# NXLog's fields that the event's own data never replaces.
NXLOG_IDENTITY = {"EventTime", "Hostname", "EventID", "SourceName", "Channel", "RecordNumber",
                  "EventReceivedTime", "SourceModuleName", "SourceModuleType"}


def nxlog_text(value):
    """NXLog's line endings: CR LF, and a lone CR, become LF."""
    return as_text(value).replace("\r\n", "\n").replace("\r", "\n")


def nxlog(event):
    system = system_of(event)
    named, unnamed, _ = data_of(event)
    when = event_time(system)
    level = int_or_none(system.get("Level")) or 0
    kw = keywords_value(system)
    if level == 0 and kw & 0x0010000000000000:
        event_type, severity = "AUDIT_FAILURE", ("ERROR", 4)
    elif level == 0 and kw & 0x0020000000000000:
        event_type, severity = "AUDIT_SUCCESS", ("INFO", 2)
    else:
        event_type, severity = {
            1: ("CRITICAL", ("CRITICAL", 5)), 2: ("ERROR", ("ERROR", 4)),
            3: ("WARNING", ("WARNING", 3)), 5: ("VERBOSE", ("DEBUG", 1)),
        }.get(level, ("INFO", ("INFO", 2)))
    out = {}
    if when:
        out["EventTime"] = when.strftime("%Y-%m-%d %H:%M:%S")
    out["Hostname"] = system.get("Computer")
    out["Keywords"] = kw - (1 << 64) if kw >= 1 << 63 else kw
    out["EventType"] = event_type
    out["SeverityValue"] = severity[1]
    out["Severity"] = severity[0]
    out["EventID"] = int_or_none(system.get("EventID"))
    out["SourceName"] = system.get("Provider_Name")
    if system.get("Provider_Guid"):
        out["ProviderGuid"] = system["Provider_Guid"]
    for ours, theirs in [("Version", "Version"), ("Task", "Task"), ("OpcodeValue", "Opcode"),
                         ("RecordNumber", "EventRecordID"),
                         ("ActivityID", "Correlation_ActivityID"),
                         ("ProcessID", "Execution_ProcessID"),
                         ("ThreadID", "Execution_ThreadID"), ("Channel", "Channel")]:
        if system.get(theirs) is not None:
            out[ours] = system[theirs]
    if system.get("Security_UserID"):
        out["UserID"] = system["Security_UserID"]
    out["Opcode"] = "Info"
    for key, value in named:
        if key not in NXLOG_IDENTITY:
            out[key] = nxlog_text(value)
    out["Message"] = nxlog_text(message(system, named, unnamed))
    if when:
        out["EventReceivedTime"] = when.strftime("%Y-%m-%d %H:%M:%S")
    out["SourceModuleName"] = "eventlog"
    out["SourceModuleType"] = "im_msvistalog"
    return {k: v for k, v in out.items() if v is not None}


def beats_common(event):
    system = system_of(event)
    named, unnamed, wrapper = data_of(event)
    when = event_time(system)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z" if when else None
    kw = keywords_value(system)
    keywords = [name for bit, name in KEYWORD_NAMES if kw & bit]
    level = LEVEL_NAMES.get(int_or_none(system.get("Level")) or 0, "Information")
    if wrapper is not None:
        data, user_data = {}, beats_pairs(named, [])
        user_data["xml_name"] = wrapper
        if unnamed:
            data = beats_pairs([], unnamed)
    else:
        data, user_data = beats_pairs(named, unnamed), {}
    return system, named, unnamed, stamp, keywords, level, data, user_data


def winlogbeat6(event):
    system, named, unnamed, stamp, keywords, level, data, user_data = beats_common(event)
    out = {}
    if stamp:
        out["@timestamp"] = stamp
    out["beat"] = {"hostname": COLLECTOR_HOST, "name": COLLECTOR_HOST, "version": "6.8.23"}
    out["host"] = {"name": COLLECTOR_HOST}
    out["computer_name"] = system.get("Computer")
    if data:
        out["event_data"] = data
    if user_data:
        out["user_data"] = user_data
    out["event_id"] = int_or_none(system.get("EventID"))
    if keywords:
        out["keywords"] = keywords
    out["level"] = level
    if system.get("Channel"):
        out["log_name"] = system["Channel"]
    out["message"] = beats_text(message(system, named, unnamed))
    out["opcode"] = "Info"
    for ours, theirs in [("process_id", "Execution_ProcessID"),
                         ("thread_id", "Execution_ThreadID"),
                         ("provider_guid", "Provider_Guid"),
                         ("activity_id", "Correlation_ActivityID"),
                         ("version", "Version")]:
        if system.get(theirs) is not None:
            out[ours] = system[theirs]
    if system.get("EventRecordID") is not None:
        out["record_number"] = str(system["EventRecordID"])
    out["source_name"] = system.get("Provider_Name")
    out["type"] = "wineventlog"
    if system.get("Security_UserID"):
        out["user"] = {"identifier": system["Security_UserID"]}
    return {k: v for k, v in out.items() if v is not None}


def ecs(event):
    system, named, unnamed, stamp, keywords, level, data, user_data = beats_common(event)
    eid = int_or_none(system.get("EventID"))
    computer = system.get("Computer")
    winlog = {"api": "wineventlog"}
    if system.get("Channel"):
        winlog["channel"] = system["Channel"]
    if computer:
        winlog["computer_name"] = computer
    if data:
        winlog["event_data"] = data
    if user_data:
        winlog["user_data"] = user_data
    winlog["event_id"] = str(eid)
    if keywords:
        winlog["keywords"] = keywords
    winlog["opcode"] = "Info"
    if system.get("Execution_ProcessID") is not None:
        winlog["process"] = {"pid": system["Execution_ProcessID"]}
        if system.get("Execution_ThreadID") is not None:
            winlog["process"]["thread"] = {"id": system["Execution_ThreadID"]}
    if system.get("Provider_Guid"):
        winlog["provider_guid"] = system["Provider_Guid"]
    winlog["provider_name"] = system.get("Provider_Name")
    if system.get("EventRecordID") is not None:
        winlog["record_id"] = str(system["EventRecordID"])
    if system.get("Correlation_ActivityID"):
        winlog["activity_id"] = system["Correlation_ActivityID"]
    if system.get("Security_UserID"):
        winlog["user"] = {"identifier": system["Security_UserID"]}
    if system.get("Version") is not None:
        winlog["version"] = system["Version"]
    out = {}
    if stamp:
        out["@timestamp"] = stamp
    out["agent"] = {"type": "winlogbeat", "version": "8.12.2", "name": COLLECTOR_HOST,
                    "hostname": COLLECTOR_HOST}
    out["ecs"] = {"version": "8.0.0"}
    out["event"] = {"kind": "event", "code": str(eid), "provider": system.get("Provider_Name"),
                    "created": stamp}
    out["host"] = {"name": (computer or COLLECTOR_HOST).lower()}
    out["log"] = {"level": level.lower()}
    out["message"] = beats_text(message(system, named, unnamed))
    out["winlog"] = winlog
    # What the Sysmon and Security processors add for process creations.
    channel = system.get("Channel")
    fields = dict(named)
    if (channel, eid) in (("Microsoft-Windows-Sysmon/Operational", 1), ("Security", 4688)):
        image = fields.get("Image") or fields.get("NewProcessName")
        process = {"executable": image, "command_line": fields.get("CommandLine"),
                   "name": image.rsplit("\\", 1)[-1] if isinstance(image, str) else None}
        parent = fields.get("ParentImage") or fields.get("ParentProcessName")
        if parent:
            process["parent"] = {"executable": parent,
                                 "command_line": fields.get("ParentCommandLine")}
        out["process"] = drop_none(process)
        user = fields.get("User") or fields.get("SubjectUserName")
        if isinstance(user, str):
            out["user"] = {"name": user.rsplit("\\", 1)[-1]}
    return drop_none(out)


def elastic(event):
    doc = ecs(event)
    record = (event.get("System") or {}).get("EventRecordID")
    return {"_index": ".ds-logs-windows-default", "_id": f"r{record}", "_score": 1.0,
            "_source": doc}


def drop_none(value):
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("inputs", nargs="+", help="evtx-shaped JSON files")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    shapes = {"original": lambda e: e, "nxlog": nxlog, "winlogbeat6": winlogbeat6, "ecs": ecs,
              "elastic": elastic}
    outs = {name: open(os.path.join(args.out, f"{name}.jsonl"), "w", encoding="utf-8")
            for name in shapes}
    count, skipped = 0, 0
    try:
        for path in args.inputs:
            for record in read_events(path):
                event = record.get("Event", record)
                if not isinstance(event, dict) or not isinstance(event.get("System"), dict):
                    skipped += 1
                    continue
                for name, render in shapes.items():
                    shaped = render(record if name == "original" else event)
                    outs[name].write(json.dumps(shaped, ensure_ascii=False) + "\n")
                count += 1
    finally:
        for f in outs.values():
            f.close()
    print(f"{count} events rendered in {len(shapes)} shapes to {args.out}"
          + (f" ({skipped} not in the evtx shape, skipped)" if skipped else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
