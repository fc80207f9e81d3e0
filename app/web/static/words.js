// What the map says to an officer, in Vietnamese: the names of statuses, severities and
// sides, and times in Vietnam's time zone (the API gives codes and UTC instants).

export const STATUS_VI = {
  reported: "đã báo cáo", verified: "đã xác minh", escalated: "đã báo cáo cấp trên",
  referred: "đã chuyển cơ quan", in_negotiation: "đang giao thiệp", monitoring: "đang theo dõi",
  resolved: "đã giải quyết", dismissed: "đã bác bỏ",
};
export const SEVERITY_VI = { low: "thấp", medium: "trung bình", high: "cao", critical: "nghiêm trọng" };
export const SIDE_VI = {
  VN: "phía Việt Nam", CN: "phía Trung Quốc", LA: "phía Lào", KH: "phía Campuchia",
  on_line: "trên đường biên", crossing: "cắt qua đường biên",
};
export const CONDITION_VI = {
  intact: "nguyên vẹn", damaged: "hư hỏng", displaced: "xê dịch", destroyed: "mất, bị phá",
  at_risk: "có nguy cơ",
};

const LOCAL_TIME = new Intl.DateTimeFormat("vi-VN", {
  timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric",
  hour: "2-digit", minute: "2-digit", hour12: false,
});

// `2024-05-10T02:30:00+00:00` -> `09:30 10/05/2024` (Vietnam time); anything else as it is.
export function localTime(value) {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return value;
  const instant = new Date(value);
  return Number.isNaN(instant.getTime()) ? value : LOCAL_TIME.format(instant);
}

export function named(table, code) {
  return code in table ? `${table[code]}` : code;
}
