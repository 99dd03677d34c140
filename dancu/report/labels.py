"""Every word the report shows, in Vietnamese (the default) and English, in one place.

A code the tables below do not know (a new source, rule or reason) is shown as it is: the report
never hides a figure for want of a word.
"""

import functools
import gettext
import re
from typing import Literal

import pycountry

from dancu.nationality import NAMES as COUNTRY_NAMES

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")

TEXT: dict[Language, dict[str, str]] = {
    "vi": {
        "title": "Báo cáo chất lượng dữ liệu dân cư",
        "subtitle": "Dữ liệu đúng, đủ, sạch, sống",
        "run": "Lần chạy",
        "published": "Công bố lúc",
        "as_of": "Tính đến ngày",
        "privacy": "Họ tên và số định danh đã được che.",
        "provenance": "Mọi con số là kết quả một truy vấn của sql/report.sql trên phiên bản kho "
        "dữ liệu này.",
        "contents": "Mục lục",
        "s_headline": "Tổng quan",
        "s_sources": "Chất lượng theo nguồn",
        "s_wards": "Chất lượng theo phường, xã",
        "s_trends": "Diễn biến qua các lần chạy",
        "s_quarantine": "Bản ghi bị cách ly",
        "s_consistency": "Mâu thuẫn giữa các nguồn",
        "s_resolution": "Hợp nhất bản ghi thành công dân",
        "s_linkage": "Liên kết sự kiện hộ tịch",
        "s_corrections": "Đề nghị các nguồn đính chính",
        "s_changes": "Thay đổi so với lần chạy trước",
        "legend": "Chú giải màu",
        "band_full": "100%: không còn bản ghi nào thiếu",
        "band_high": "từ 95% đến dưới 100%: còn sót ít, xem số còn lại",
        "band_mid": "từ 80% đến dưới 95%: cần xem xét",
        "band_low": "dưới 80%: có vấn đề",
        "band_stale": "quá hạn: lần trích xuất gần nhất cũ hơn chu kỳ giao nhận của nguồn",
        "share_rule": "Tỷ lệ được làm tròn xuống, không bao giờ lên: 99,97% nghĩa là còn thiếu "
        "một phần; số trong ngoặc là số còn lại.",
        "left_records": "còn {n} bản ghi",
        "left_parties": "còn {n} người",
        "days": "{n} ngày",
        "days_late": "quá hạn {n} ngày",
        "data_age": "dữ liệu cũ {n} ngày",
        "linked_note": "liên kết sự kiện {share}",
        "cadence": "chu kỳ {n} ngày",
        "newest_extract": "Trích xuất gần nhất",
        "staleness": "Số ngày từ lần trích xuất",
        "stalest": "Nguồn cũ nhất",
        "all_fresh": "Mọi nguồn đều trong chu kỳ giao nhận.",
        "not_delivered": "chưa nhận được trích xuất nào",
        "not_delivered_note": "không có tệp nào đọc được: nguồn không giao, hoặc mọi tệp bị từ "
        "chối cả tệp",
        "late_sources": "Nguồn quá hạn",
        "linked_share": "Bên liên kết được với công dân",
        "source": "Nguồn",
        "ward": "Phường, xã",
        "rows_delivered": "Số dòng đánh giá",
        "rows_in_files": "Số dòng trong các tệp nhận",
        "rows_quarantined": "Bị cách ly",
        "rows_note": "Các tệp nhận có {delivered} dòng dữ liệu: {superseded} dòng đã được lần "
        "trích xuất sau thay thế (không đánh giá lại); {judged} dòng được đánh giá (cột “Số dòng "
        "đánh giá”), trong đó {quarantined} dòng bị cách ly, gồm {rejected} dòng của {files} tệp "
        "bị từ chối cả tệp (tệp không đọc được không có dòng nào để đếm).",
        "persons": "Công dân",
        "review_pairs": "Cặp chờ cán bộ xác minh",
        "corrections": "Đề nghị đính chính",
        "ward_note": "Phường, xã thường trú với hồ sơ công dân, nơi đăng ký với sự kiện hộ tịch; "
        "bản ghi bị cách ly không có phường, xã tin cậy.",
        "one_run": "Mới có một lần chạy: mỗi chấm là giá trị của một nguồn; đường xu hướng sẽ "
        "hiện từ lần chạy thứ hai.",
        "runs": "{n} lần chạy",
        "rule": "Quy tắc",
        "rows": "Số dòng",
        "message": "Mô tả",
        "examples": "Ví dụ (đã che)",
        "whole_file": "cả tệp",
        "quarantine_chart": "Số dòng bị cách ly theo quy tắc",
        "issue_count": "Số mâu thuẫn",
        "issue_persons": "Số công dân",
        "no_issues": "Không có mâu thuẫn nào giữa các nguồn.",
        "consistency_note": "Các mâu thuẫn ghi trong bảng consistency_issue của kho dữ liệu: "
        "một công dân có hoạt động sau khi mất, kết hôn khi chưa chấm dứt hôn nhân trước, ...",
        "flags_heading": "Cảnh báo trên các dòng được chấp nhận, theo nguồn",
        "dimension": "Tiêu chí",
        "none": "Không có.",
        "match_rules_heading": "Bản ghi được ghép với công dân theo cách nào",
        "match_rule": "Cách ghép",
        "records": "Số bản ghi",
        "review_heading": "Cặp chờ xác minh theo lý do",
        "reason": "Lý do",
        "pairs": "Số cặp",
        "event_type": "Loại sự kiện",
        "role": "Vai trò",
        "parties": "Số người",
        "linked": "Liên kết được",
        "unmatched_heading": "Người trong sự kiện chưa tìm thấy công dân",
        "life_heading": "Tình trạng được cập nhật",
        "figure": "Chỉ tiêu",
        "value": "Giá trị",
        "corrections_note": "Giá trị do nguồn gửi mà sổ dân cư, sau khi hợp nhất, cho thấy là "
        "sai (hoặc bỏ trống: bổ sung), gửi lại chính nguồn đó khi độ tin cậy từ {confidence}; "
        "mỗi nguồn nhận một tệp XLSX trong reports/corrections/. Ví dụ: bản ghi, giá trị nhận "
        "→ giá trị trong sổ.",
        "corrections_chart": "Số đề nghị đính chính theo nguồn",
        "field": "Trường",
        "kind": "Loại",
        "mean_confidence": "Độ tin cậy trung bình",
        "first_run": "Đây là lần chạy đầu tiên trong lịch sử: chưa có gì để so sánh.",
        "no_change": "Không có chỉ tiêu nào thay đổi so với lần chạy trước.",
        "metric": "Chỉ tiêu",
        "previous": "Lần trước",
        "current": "Lần này",
        "change": "Thay đổi",
        "new": "mới",
        "points": "điểm %",
        "unknown_ward": "Không rõ (bị cách ly)",
        "s_new_sources": "Học sinh, lý lịch tư pháp và yếu tố nước ngoài",
        "students_heading": "Hồ sơ học sinh chưa ghép được với công dân, theo trường và phường, xã",
        "students_note": "Hồ sơ học sinh không ghép chắc chắn được với một công dân trong CSDL "
        "dân cư hay khai sinh, và lý do.",
        "school": "Trường",
        "status": "Tình trạng",
        "more_rows": "… và {n} dòng khác",
        "requests_heading": "Phiếu lý lịch tư pháp theo tình trạng ghép",
        "requests": "Số phiếu",
        "with_conviction": "Phiếu có án tích",
        "conviction_note": "Chỉ đếm số phiếu; nội dung án tích không bao giờ có trong báo cáo.",
        "foreign_heading": "Khai sinh và kết hôn có yếu tố nước ngoài, theo quốc tịch",
        "nationality": "Quốc tịch",
        "events": "Số sự kiện",
        "review_corrections_heading": "Chênh lệch chờ cán bộ xác minh (chưa gửi nguồn)",
        "review_corrections_note": "Chênh lệch với sổ dân cư mà bằng chứng hai bên gần ngang "
        "nhau: bảng correction_review của kho dữ liệu.",
        "held_because": "Lý do giữ lại",
    },
    "en": {
        "title": "Population data-quality report",
        "subtitle": "Correct, complete, clean and live data",
        "run": "Run",
        "published": "Published",
        "as_of": "As of",
        "privacy": "Names and ids are masked.",
        "provenance": "Every figure is a query of sql/report.sql over this warehouse version.",
        "contents": "Contents",
        "s_headline": "Headline",
        "s_sources": "Quality per source",
        "s_wards": "Quality per ward",
        "s_trends": "Trends over runs",
        "s_quarantine": "Quarantined records",
        "s_consistency": "Contradictions between sources",
        "s_resolution": "Resolving records into persons",
        "s_linkage": "Civil-event linkage",
        "s_corrections": "Corrections sent back to each source",
        "s_changes": "What changed since the previous run",
        "legend": "Colour legend",
        "band_full": "100%: nothing missing",
        "band_high": "95% to below 100%: a few left, see the count",
        "band_mid": "80% to below 95%: worth a look",
        "band_low": "below 80%: a problem",
        "band_stale": "overdue: the newest extract is older than the source's delivery cycle",
        "share_rule": "Shares are rounded down, never up: 99.97% means some are missing; the "
        "number in brackets is how many.",
        "left_records": "{n} left",
        "left_parties": "{n} unlinked",
        "days": "{n} days",
        "days_late": "{n} days overdue",
        "data_age": "data {n} days old",
        "linked_note": "events linked {share}",
        "cadence": "every {n} days",
        "newest_extract": "Newest extract",
        "staleness": "Days since extract",
        "stalest": "Stalest source",
        "all_fresh": "Every source is within its delivery cycle.",
        "not_delivered": "no extract received",
        "not_delivered_note": "no readable file: the source delivered none, or every file was "
        "rejected whole",
        "late_sources": "Overdue sources",
        "linked_share": "Parties linked to a person",
        "source": "Source",
        "ward": "Ward",
        "rows_delivered": "Rows judged",
        "rows_in_files": "Rows in the files delivered",
        "rows_quarantined": "Quarantined",
        "rows_note": "The files delivered hold {delivered} data rows: {superseded} superseded by "
        "a later extract (not judged again); {judged} rows judged (the column “Rows judged”), of "
        "which {quarantined} quarantined, {rejected} of them in {files} files rejected whole (a "
        "file that could not be read has no rows to count).",
        "persons": "Persons",
        "review_pairs": "Pairs for clerks",
        "corrections": "Corrections sent back",
        "ward_note": "Ward of residence for person records, of registration for events; "
        "quarantined rows have no trusted ward.",
        "one_run": "Only one run so far: each dot is one source's value; trend lines appear "
        "from the second run.",
        "runs": "{n} runs",
        "rule": "Rule",
        "rows": "Rows",
        "message": "Description",
        "examples": "Examples (masked)",
        "whole_file": "whole file",
        "quarantine_chart": "Quarantined rows by rule",
        "issue_count": "Contradictions",
        "issue_persons": "Persons",
        "no_issues": "No contradiction between sources.",
        "consistency_note": "The contradictions of the warehouse's consistency_issue table: a "
        "person active after death, married again while still married, ...",
        "flags_heading": "Warnings on accepted rows, per source",
        "dimension": "Dimension",
        "none": "None.",
        "match_rules_heading": "How records joined their person",
        "match_rule": "Match rule",
        "records": "Records",
        "review_heading": "Review queue by reason",
        "reason": "Reason",
        "pairs": "Pairs",
        "event_type": "Event",
        "role": "Role",
        "parties": "Parties",
        "linked": "Linked",
        "unmatched_heading": "Parties without a person",
        "life_heading": "Life status applied",
        "figure": "Figure",
        "value": "Value",
        "corrections_note": "Delivered values that the register, after resolution, shows to be "
        "wrong (or empty: completion), sent back to the source that delivered them, from "
        "confidence {confidence}; each source gets its own XLSX under reports/corrections/. "
        "Examples: record, delivered → register value.",
        "corrections_chart": "Corrections by source",
        "field": "Field",
        "kind": "Kind",
        "mean_confidence": "Mean confidence",
        "first_run": "This is the first run in the history: nothing to compare with.",
        "no_change": "No figure changed since the previous run.",
        "metric": "Figure",
        "previous": "Previous run",
        "current": "This run",
        "change": "Change",
        "new": "new",
        "points": "pt",
        "unknown_ward": "Unknown (quarantined)",
        "s_new_sources": "Students, judicial records and foreign elements",
        "students_heading": "Student records not matched to a person, per school and ward",
        "students_note": "Student records that match no person of the population register or "
        "the birth registrations with confidence, and why.",
        "school": "School",
        "status": "Status",
        "more_rows": "… and {n} more rows",
        "requests_heading": "Judicial-record requests per match status",
        "requests": "Requests",
        "with_conviction": "Requests with a conviction",
        "conviction_note": "Only counted: the convictions themselves are never in the report.",
        "foreign_heading": "Births and marriages with a foreign element, per nationality",
        "nationality": "Nationality",
        "events": "Events",
        "review_corrections_heading": "Differences waiting for a clerk (not sent to the source)",
        "review_corrections_note": "Differences from the register whose evidence is close on "
        "both sides: the warehouse's correction_review table.",
        "held_because": "Held because",
    },
}

SOURCES: dict[Language, dict[str, str]] = {
    "vi": {
        "all": "Tất cả nguồn",
        "dan_cu": "Dân cư (CSDL dân cư)",
        "bhxh": "Bảo hiểm xã hội",
        "y_te": "Y tế",
        "khai_sinh": "Khai sinh",
        "khai_tu": "Khai tử",
        "ket_hon": "Kết hôn",
        "giao_duc": "Giáo dục",
        "ly_lich_tu_phap": "Lý lịch tư pháp",
    },
    "en": {
        "all": "All sources",
        "dan_cu": "Population register",
        "bhxh": "Social insurance",
        "y_te": "Health",
        "khai_sinh": "Birth registration",
        "khai_tu": "Death registration",
        "ket_hon": "Marriage registration",
        "giao_duc": "Education",
        "ly_lich_tu_phap": "Judicial records",
    },
}

DIMENSIONS: dict[Language, dict[str, tuple[str, str]]] = {
    "vi": {
        "correct": ("Đúng", "dòng không bị cách ly và không vi phạm quy tắc về tính đúng, trên "
                    "số dòng đánh giá"),
        "complete": ("Đủ", "dòng được chấp nhận không thiếu trường bắt buộc hay số định danh"),
        "clean": ("Sạch", "hồ sơ công dân không chờ cán bộ xác minh và không dùng chung số định "
                  "danh với người khác"),
        "live": ("Sống", "người trong khai sinh, khai tử, kết hôn liên kết được với công dân "
                 "(người trong đăng ký bị từ chối là người chưa liên kết: sổ không biết sự kiện "
                 "đó), và số ngày từ lần trích xuất gần nhất của mỗi nguồn"),
    },
    "en": {
        "correct": ("Correct", "rows neither quarantined nor breaking a correctness rule, of "
                    "rows judged"),
        "complete": ("Complete", "accepted rows with no required field or personal id missing"),
        "clean": ("Clean", "person records neither waiting for a clerk nor sharing their "
                  "national id with another person"),
        "live": ("Live", "parties of births, deaths and marriages linked to a person (the "
                 "parties of a refused registration are unlinked: the register does not know "
                 "that event), and the days since each source's newest extract"),
    },
}  # fmt: skip

METRICS: dict[Language, dict[str, str]] = {
    "vi": {
        "rows_delivered": "Số dòng đánh giá",
        "rows_quarantined": "Số dòng bị cách ly",
        "rows_flagged_correct": "Dòng vi phạm quy tắc đúng",
        "rows_accepted": "Số dòng được chấp nhận",
        "rows_flagged_complete": "Dòng thiếu thông tin",
        "person_records": "Hồ sơ công dân",
        "persons": "Công dân",
        "person_records_unresolved": "Hồ sơ chưa hợp nhất xong",
        "parties": "Người trong sự kiện",
        "parties_linked": "Người liên kết được",
        "correct_share": "Tỷ lệ đúng",
        "complete_share": "Tỷ lệ đủ",
        "clean_share": "Tỷ lệ sạch",
        "live_share": "Tỷ lệ liên kết (sống)",
        "persons_with_several_records": "Công dân có nhiều hồ sơ",
        "review_pairs": "Cặp chờ cán bộ xác minh",
        "national_ids_on_several_persons": "Số định danh trên nhiều công dân",
        "merges": "Lần gộp công dân",
        "splits": "Lần tách công dân",
        "deceased": "Đã mất",
        "deceased_without_date": "Đã mất, chưa rõ ngày mất",
        "married_by_registration": "Kết hôn theo đăng ký",
        "widowed_by_registration": "Góa theo đăng ký khai tử",
        "persons_from_births": "Công dân mới từ khai sinh",
        "events_registered_twice": "Sự kiện đăng ký hai lần",
    },
    "en": {
        "rows_delivered": "Rows judged",
        "rows_quarantined": "Rows quarantined",
        "rows_flagged_correct": "Rows breaking a correctness rule",
        "rows_accepted": "Rows accepted",
        "rows_flagged_complete": "Rows with a gap",
        "person_records": "Person records",
        "persons": "Persons",
        "person_records_unresolved": "Person records unresolved",
        "parties": "Event parties",
        "parties_linked": "Parties linked",
        "correct_share": "Correct share",
        "complete_share": "Complete share",
        "clean_share": "Clean share",
        "live_share": "Live share (linked)",
        "persons_with_several_records": "Persons with several records",
        "review_pairs": "Pairs for clerks",
        "national_ids_on_several_persons": "National ids on several persons",
        "merges": "Person merges",
        "splits": "Person splits",
        "deceased": "Deceased",
        "deceased_without_date": "Deceased without a date",
        "married_by_registration": "Married by registration",
        "widowed_by_registration": "Widowed by a death registration",
        "persons_from_births": "Persons new from births",
        "events_registered_twice": "Events registered twice",
    },
}

RULES: dict[str, str] = {
    "file.truncated": "tệp kết thúc giữa dòng này: tệp bị cắt cụt",
    "file.rejected": "cả tệp bị từ chối",
    "id.a_parents_on_the_child": "số định danh của trẻ là của cha hoặc mẹ: trẻ được liên kết "
    "không theo số này",
    "marriage.same_person": "chồng và vợ mang cùng một số định danh",
    "row.ragged": "dòng có nhiều trường hơn tiêu đề cột: giá trị có thể nằm sai cột",
    "row.repeats_header": "dòng lặp lại tiêu đề cột: các lần trích xuất bị ghép vào một tệp",
    "record_id.missing": "mã bản ghi bị bỏ trống",
    "record_id.repeated_in_extract": "mã bản ghi đã xuất hiện trước đó trong cùng lần trích xuất",
    "name.empty": "họ tên không còn chữ cái nào sau khi sửa",
    "date.impossible": "ngày không có thật",
    "date.future": "ngày sau ngày trích xuất",
    "id.non_digit": "số định danh chứa ký tự không phải chữ số hay dấu phân cách",
    "date.death_before_birth": "ngày mất trước ngày sinh",
    "id.missing": "không có số định danh cá nhân",
    "id.malformed": "số định danh không đủ 12 chữ số",
    "id.temporary_code": "cột số định danh ghi một mã tạm, không phải số định danh 12 chữ số",
    "id.of_older_generation": "số định danh mang năm sinh sớm hơn năm sinh của bản ghi từ 12 năm "
    "trở lên: số của cha hoặc mẹ",
    "id.province_unknown": "số định danh không bắt đầu bằng một trong 63 mã tỉnh",
    "id.sex_mismatch": "chữ số giới tính trong số định danh không khớp giới tính ghi nhận",
    "id.birth_year_mismatch": "năm sinh trong số định danh không khớp ngày sinh ghi nhận",
    "date.day_month_swapped": "ngày được đọc theo kiểu tháng/ngày, cách đọc duy nhất hợp lệ",
    "date.two_digit_year": (
        "năm chỉ ghi hai chữ số: thế kỷ gần năm sinh trong số định danh nhất, "
        "hoặc thế kỷ gần nhất không sau ngày trích xuất"
    ),
    "date.registration_before_event": "ngày đăng ký trước ngày xảy ra sự kiện",
    "age.implausible": "người này sẽ hơn 120 tuổi",
    "birth.parent_age_implausible": "tuổi của cha hoặc mẹ khi sinh con không hợp lý",
    "marriage.under_age": "một bên kết hôn chưa đủ tuổi (nam 20, nữ 18)",
    "required.missing": "một trường bắt buộc bị bỏ trống",
    "name.has_digits": "họ tên chứa chữ số",
    "text.undecodable": "trường chứa byte không đọc được theo bảng mã của tệp",
    "field.too_long": "trường dài hơn 500 ký tự",
    "sex.unknown": "giới tính không phải Nam/Nữ",
    "ward.unsettled": "địa chỉ và mã phường, xã không xác định được một phường, xã hiện hành",
    "code.unknown": "trường mã hóa (dân tộc, quốc tịch, hôn nhân, ...) chứa mã không có trong "
    "danh mục",
    "nationality.unknown": "quốc tịch không chỉ một quốc gia nào (hay không quốc tịch)",
    "document.type_unknown": "loại giấy tờ không phải CCCD, CMND, hộ chiếu hay giấy chứng nhận "
    "căn cước",
    "document.number_misfit": "số giấy tờ không khớp loại giấy tờ (CMND 9 chữ số, CCCD 12)",
    "document.passport_malformed": "số hộ chiếu không có dạng mà quốc gia cấp dùng (6-9 chữ cái "
    "và chữ số)",
    "record.previous_version_held": "lần giao sau của bản ghi này bị cách ly: phiên bản trước "
    "này vẫn được giữ",
    "life.activity_after_death": "có lượt khám chữa bệnh sau ngày mất",
    "life.married_after_death": "đăng ký kết hôn sau ngày mất",
    "birth.mother_age_implausible": "tuổi của mẹ khi sinh con không hợp lý",
    "marriage.without_divorce": "kết hôn khi hôn nhân trước chưa chấm dứt",
    "life.death_before_birth": "ngày mất trước ngày sinh theo cơ sở dữ liệu dân cư",
    "death.dates_disagree": "cùng một người được đăng ký khai tử hai lần với ngày mất khác nhau",
    "birth.registered_again_renamed": "một trẻ được đăng ký khai sinh lại với tên khác (trẻ sinh "
    "đôi cùng một số định danh, hoặc đổi tên)",
}

RULES_WITH_CAUSE = {"file.rejected"}

# Why a file was rejected whole (`dancu.ingest`), in Vietnamese: the pattern of each English cause
# and its words, the cause's own values (a column, a folder) kept; the first pattern that matches
# the whole cause is taken. A cause no pattern knows is shown as it is.
FILE_CAUSES: tuple[tuple[str, str], ...] = (
    (r"missing required column\(s\): (.+) in the first sheet, and no other sheet holds them",
     r"thiếu cột bắt buộc ở trang tính đầu, và không trang tính nào khác có các cột này: \1"),
    (r"missing required column\(s\): (.+)", r"thiếu cột bắt buộc: \1"),
    (r"no extract date \(YYYYMMDD\) in the file name",
     "tên tệp không có ngày trích xuất (YYYYMMDD)"),
    (r"the file is empty: no header row", "tệp rỗng: không có dòng tiêu đề"),
    (r"the content is (.+), not CSV text", r"nội dung là \1, không phải văn bản CSV"),
    (r"the content is not an XLSX workbook", "nội dung không phải bảng tính XLSX"),
    (r"the content is not a Parquet file", "nội dung không phải tệp Parquet"),
    (r"unsupported file type (\S+): expected csv, xlsx or parquet",
     r"loại tệp \1 không được nhận: chỉ nhận csv, xlsx hoặc parquet"),
    (r"the (CSV|XLSX workbook|Parquet file) cannot be (?:read|parsed): (\w+)",
     r"không đọc được tệp (\1): lỗi \2"),
    (r"the file cannot be read: unexpected (\w+)", r"không đọc được tệp: lỗi \1"),
    (r"the file cannot be opened: (.+)", r"không mở được tệp: \1"),
    (r"sheet (\d+) of (\d+) holds a table without required column\(s\): (.+)",
     r"trang tính \1/\2 có bảng thiếu cột bắt buộc: \3"),
    (r"column '(.+)' has type (\S+), (?:not one text value per row|which has no text form)",
     r"cột '\1' có kiểu \2, không phải văn bản"),
    (r"its extract date (\S+) is after today \((\S+)\): .*",
     r"ngày trích xuất \1 sau ngày hôm nay (\2): tên tệp ghi sai ngày, hoặc đồng hồ máy đặt sai"),
    (r"outside the layout: a file at the landing root; expected (\S+)",
     r"ngoài cấu trúc thư mục: tệp nằm ở thư mục gốc; cần đặt ở \1"),
    (r"outside the layout: in a sub-folder of (\S+); expected (\S+)",
     r"ngoài cấu trúc thư mục: tệp nằm trong thư mục con của \1; cần đặt ở \2"),
    (r"outside the layout: the folder (\S+) is no source folder; it looks like (\S+), but a "
     r"source folder's name must be exact",
     r"ngoài cấu trúc thư mục: thư mục \1 không phải thư mục nguồn; trông giống \2, nhưng tên "
     r"thư mục nguồn phải viết đúng"),
    (r"outside the layout: the folder (\S+) is no source folder; expected one of (.+)",
     r"ngoài cấu trúc thư mục: thư mục \1 không phải thư mục nguồn; cần là một trong \2"),
)  # fmt: skip

# Sex as the register codes it (M/F), in the words of each language.
SEX: dict[Language, dict[str, str]] = {"vi": {"M": "Nam", "F": "Nữ"}, "en": {}}

MATCH_FIELDS: dict[str, str] = {
    "national_id": "số định danh",
    "bhxh_code": "mã số BHXH",
    "birth_date": "ngày sinh",
    "birth_year": "năm sinh",
    "given": "tên",
    "family": "họ",
    "middle": "tên đệm",
    "full_name": "họ tên",
    "name_words": "các chữ của họ tên",
    "phone": "số điện thoại",
    "ward": "phường, xã",
    "house": "cùng hộ",
    "alike_given": "tên gần giống",
    "single": "hồ sơ duy nhất",
    "new_person": "công dân mới",
    "clerk": "cán bộ quyết định",
}

CONSISTENCY_RULES_EN: dict[str, str] = {
    "life.activity_after_death": "a health-facility visit after the death",
    "life.married_after_death": "a marriage registered after the death",
    "birth.mother_age_implausible": "the mother's age at the birth is implausible",
    "marriage.without_divorce": "married again while an earlier marriage still stands",
    "life.death_before_birth": "a death registered before the birth the register knows",
    "death.dates_disagree": "one death registered twice with other dates of death",
    "birth.registered_again_renamed": "one child's birth registered again under another given "
    "name (twins given one id, or a child renamed)",
}

WORDS: dict[Language, dict[str, str]] = {
    "vi": {
        "birth": "Khai sinh",
        "death": "Khai tử",
        "marriage": "Kết hôn",
        "child": "Con",
        "mother": "Mẹ",
        "father": "Cha",
        "deceased": "Người mất",
        "husband": "Chồng",
        "wife": "Vợ",
        "national_id": "Số định danh",
        "birth_date": "Ngày sinh",
        "full_name": "Họ và tên",
        "sex": "Giới tính",
        "single": "hồ sơ duy nhất",
        "new_person": "công dân mới",
        "phone": "số điện thoại",
        "bhxh_code": "mã số BHXH",
        "uncertain": "chưa chắc chắn",
        "correct": "Đúng",
        "complete": "Đủ",
        "clean": "Sạch",
        "live": "Sống",
        "completion": "bổ sung",
        "digit_typo": "gõ sai chữ số",
        "malformed": "sai định dạng",
        "day_month_swapped": "đảo ngày và tháng",
        "one_digit": "sai một chữ số",
        "year_only": "chỉ có năm",
        "year_off_by_ten": "lệch 10 năm",
        "first_of_january": "ghi 01/01 thay ngày chưa biết",
        "diacritics": "thiếu dấu",
        "middle_name": "tên đệm",
        "typo": "lỗi chính tả",
        "family_variant": "biến thể họ",
        "order_swapped": "đảo thứ tự họ tên",
        "family_member_id": "số định danh của người thân",
        "reissued_id": "số định danh cũ đã cấp lại",
        "transposed_digits": "đảo hai chữ số",
        "other": "khác",
        "no person in the register matches with confidence": "không có công dân nào khớp "
        "đủ tin cậy",
        "uncertain: a possible match waits in the review queue": "chưa chắc chắn: một cặp "
        "khả năng khớp đang chờ cán bộ xác minh",
        "matched": "đã ghép với công dân",
        "several_candidates": "nhiều công dân có thể là người này: chờ cán bộ",
        "conflicting_sex": "công dân có thể là người này lại khác giới tính: chờ cán bộ",
        "no_birth_registration": "không có số định danh, không tìm thấy khai sinh",
        "not_in_register": "không có trong CSDL dân cư",
        "register_doubtful": "giá trị trong sổ đáng ngờ",
        "ly_lich_tu_phap": "Lý lịch tư pháp",
        "giao_duc": "Giáo dục",
    },
    "en": {},
}


def text(language: Language, key: str, **values: object) -> str:
    return TEXT[language][key].format(**values)


def source_name(language: Language, source: str) -> str:
    return SOURCES[language].get(source, source)


def word(language: Language, code: str | None) -> str:
    """A code of the warehouse (event type, role, field, reason, ...) in words, or as it is."""
    if code is None:
        return "–"
    return WORDS[language].get(code, code.replace("_", " ") if language == "en" else code)


def file_cause(message: str) -> str:
    """Why a file was rejected, in Vietnamese where its pattern is known."""
    for pattern, words in FILE_CAUSES:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, words, message)
    return message


def rule_text(language: Language, rule_id: str, message: str = "") -> str:
    """A rule's description: Vietnamese from the table above, else the rule's own message. A
    rejected file's message names its own cause (the missing column, ...), so it stays, in
    Vietnamese where it can."""
    if language == "vi" and rule_id in RULES:
        cause = f": {file_cause(message)}" if rule_id in RULES_WITH_CAUSE and message else ""
        return RULES[rule_id] + cause
    return message or CONSISTENCY_RULES_EN.get(rule_id, rule_id)


def match_rule(language: Language, rule: str) -> str:
    """ "birth_date+given" -> "ngày sinh + tên": the fields two records agreed on."""
    if language == "en":
        return rule.replace("_", " ").replace("+", " + ")
    return " + ".join(MATCH_FIELDS.get(part, part) for part in rule.split("+"))


@functools.cache
def _iso_names_in_vietnamese() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["vi"])


def country_name(language: Language, alpha_3: str) -> str:
    """A nationality's country by name: in Vietnamese the name Vietnamese writers use
    (`Hàn Quốc`, `Hoa Kỳ`), else ISO's Vietnamese name; in English ISO's common name; the code
    itself for a code neither knows."""
    if language == "vi" and alpha_3 in COUNTRY_NAMES:
        return COUNTRY_NAMES[alpha_3][0]
    country = pycountry.countries.get(alpha_3=alpha_3)
    if country is None:
        return alpha_3
    if language == "vi":
        return _iso_names_in_vietnamese().gettext(country.name)
    return getattr(country, "common_name", country.name)
