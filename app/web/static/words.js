// What the map says to an officer: Vietnamese first, English on the switch. The names of
// statuses, severities, sides and conditions, the panel's words, and times in Vietnam's
// time zone (the API gives codes and UTC instants). Category and zone names come from the
// service's own taxonomy (name_vi, name_en).

const WORDS = {
  vi: {
    status: {
      reported: "đã báo cáo", verified: "đã xác minh", escalated: "đã báo cáo cấp trên",
      referred: "đã chuyển cơ quan", in_negotiation: "đang giao thiệp", monitoring: "đang theo dõi",
      resolved: "đã giải quyết", dismissed: "đã bác bỏ",
    },
    severity: { low: "thấp", medium: "trung bình", high: "cao", critical: "nghiêm trọng" },
    side: {
      VN: "phía Việt Nam", CN: "phía Trung Quốc", LA: "phía Lào", KH: "phía Campuchia",
      on_line: "trên đường biên", crossing: "cắt qua đường biên",
    },
    condition: {
      intact: "nguyên vẹn", damaged: "hư hỏng", displaced: "xê dịch", destroyed: "mất, bị phá",
      at_risk: "có nguy cơ",
    },
    ui: {
      sign_out: "Đăng xuất", find: "Tìm", events: "Sự kiện", category: "Loại", since: "Từ ngày",
      until: "Đến ngày", layers: "Lớp", legend: "Chú giải", history: "Diễn biến",
      legend_line: "Đường biên theo lần phát quang gần nhất:", under_a_year: "< 1 năm",
      one_to_three_years: "1-3 năm", longer_or_never: "lâu hơn hoặc chưa",
      legend_events: "Sự kiện theo loại (nhạt: đã giải quyết; viền đậm: mức độ cao):",
      legend_markers: "Cột mốc:", other_category: "loại khác",
      other_conditions: "hư hỏng, xê dịch, mất", second_of_pair: "mốc thứ hai của cặp, bộ ba: (2), (3)",
      layer_countries: "quốc gia", layer_units: "tỉnh, huyện, xã", layer_stations: "đồn biên phòng",
      layer_line: "đường biên (phát quang)", layer_markers: "cột mốc", layer_gates: "cửa khẩu, lối mở",
      layer_disputes: "khu vực còn vướng mắc", layer_repairs: "sửa chữa, khôi phục mốc",
      layer_surveys: "khu vực khảo sát", layer_patrols: "tuần tra", layer_incidents: "sự kiện",
      f_category: "Loại", f_status: "Trạng thái", f_severity: "Mức độ", f_when: "Thời điểm",
      f_where: "Vị trí", f_marker: "Mốc gần nhất", f_chainage: "Lý trình", f_line: "Cách đường biên",
      f_province: "Tỉnh", f_district: "Huyện", f_commune: "Xã", f_side: "Phía", f_zones: "Vùng",
      f_articles: "Điều khoản có thể vi phạm", f_description: "Mô tả", f_id: "Mã",
      f_links: "Xem thêm", f_photos: "Ảnh", ogc_item: "trang OGC", export: "tải GeoJSON",
      document: "văn bản", metres: "m", searching: "Đang tìm…", not_found: "Không tìm thấy",
      switch_to: "English", token_refused: "Token không được chấp nhận",
    },
  },
  en: {
    status: {
      reported: "reported", verified: "verified", escalated: "escalated",
      referred: "referred to the Joint Committee", in_negotiation: "in negotiation",
      monitoring: "monitoring", resolved: "resolved", dismissed: "dismissed",
    },
    severity: { low: "low", medium: "medium", high: "high", critical: "critical" },
    side: {
      VN: "Viet Nam's side", CN: "China's side", LA: "Laos's side", KH: "Cambodia's side",
      on_line: "on the line", crossing: "across the line",
    },
    condition: {
      intact: "intact", damaged: "damaged", displaced: "displaced", destroyed: "lost or destroyed",
      at_risk: "at risk",
    },
    ui: {
      sign_out: "Sign out", find: "Find", events: "Events", category: "Category", since: "From",
      until: "To", layers: "Layers", legend: "Legend", history: "History",
      legend_line: "Border line by its last clearing:", under_a_year: "< 1 year",
      one_to_three_years: "1-3 years", longer_or_never: "longer or never",
      legend_events: "Events by category (faded: settled; heavy ring: high severity):",
      legend_markers: "Markers:", other_category: "other",
      other_conditions: "damaged, displaced, lost", second_of_pair: "second of a pair or triple: (2), (3)",
      layer_countries: "countries", layer_units: "provinces, districts, communes",
      layer_stations: "Border Guard stations", layer_line: "border line (clearing)",
      layer_markers: "markers", layer_gates: "gates and crossings", layer_disputes: "disputed areas",
      layer_repairs: "marker repairs", layer_surveys: "surveyed areas", layer_patrols: "patrols",
      layer_incidents: "events",
      f_category: "Category", f_status: "Status", f_severity: "Severity", f_when: "When",
      f_where: "Place", f_marker: "Nearest marker", f_chainage: "Chainage", f_line: "From the line",
      f_province: "Province", f_district: "District", f_commune: "Commune", f_side: "Side",
      f_zones: "Zones", f_articles: "Articles possibly breached", f_description: "Description",
      f_id: "Id", f_links: "More", f_photos: "Photos", ogc_item: "OGC page", export: "GeoJSON",
      document: "document", metres: "m", searching: "Searching…", not_found: "Not found",
      switch_to: "Tiếng Việt", token_refused: "Token refused",
    },
  },
};

const LANGUAGE_KEY = "bordermark.language";
let language = localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "vi";

export function currentLanguage() {
  return language;
}

export function setLanguage(chosen) {
  language = chosen === "en" ? "en" : "vi";
  localStorage.setItem(LANGUAGE_KEY, language);
  document.documentElement.lang = language;
}

// A code's name in a group (status, severity, side, condition), else the code itself.
export function word(group, code) {
  const names = WORDS[language][group];
  return code in names ? names[code] : code;
}

export function ui(key) {
  return WORDS[language].ui[key] ?? key;
}

// The page's fixed words: elements marked data-word (panel text) or data-status.
export function applyWords(root = document) {
  for (const node of root.querySelectorAll("[data-word]")) node.textContent = ui(node.dataset.word);
  for (const node of root.querySelectorAll("[data-status]")) node.textContent = word("status", node.dataset.status);
  const toggle = root.getElementById ? root.getElementById("language") : null;
  if (toggle) {
    toggle.textContent = ui("switch_to");
    toggle.lang = language === "vi" ? "en" : "vi";
  }
}

// `2024-05-10T02:30:00+00:00` -> `10/05/2024 09:30` (Vietnam time, as officers write it);
// anything else as it is.
const LOCAL_TIME = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

export function localTime(value) {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return value;
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) return value;
  const part = Object.fromEntries(LOCAL_TIME.formatToParts(instant).map((p) => [p.type, p.value]));
  return `${part.day}/${part.month}/${part.year} ${part.hour}:${part.minute}`;
}

// A name from a lookup table of the service's taxonomy ({code: {vi, en}}), else the code.
export function named(table, code) {
  const entry = table[code];
  if (!entry) return code;
  return typeof entry === "string" ? entry : entry[language] || entry.vi;
}
