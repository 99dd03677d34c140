"""Frequency tables for the synthetic population: names, ethnic groups, religions, places.

Weights are relative. Family-name shares follow the usual national estimates (Nguyễn ~38%, Trần
~11%, Lê ~9.5%, Phạm ~7%, ...), leaning northern where the north differs (Hoàng over Huỳnh, Vũ
over Võ, more Đỗ and Đặng). Given names are listed most common first and weighted by a Zipf law
on top of the hand-set weights of the very common ones.
"""

FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 4.2), ("Huỳnh", 0.8),
    ("Vũ", 3.4), ("Võ", 0.6), ("Phan", 2.2), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 2.2),
    ("Hồ", 1.0), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 0.9), ("Đào", 0.8),
    ("Trịnh", 0.7), ("Đoàn", 0.6), ("Trương", 0.6), ("Lương", 0.5), ("Mai", 0.5), ("Cao", 0.5),
    ("Hà", 0.5), ("Tạ", 0.4), ("Lưu", 0.4), ("Chu", 0.4), ("Phùng", 0.4), ("Kiều", 0.3),
    ("Tô", 0.3), ("Triệu", 0.3), ("Lâm", 0.3), ("Vương", 0.3), ("Khuất", 0.2), ("Nghiêm", 0.2),
    ("Quách", 0.2), ("Thái", 0.2), ("Đàm", 0.2), ("Lại", 0.2), ("Nông", 0.2), ("Giang", 0.2),
    ("Tống", 0.2), ("Thân", 0.2), ("Đồng", 0.2), ("Văn", 0.15), ("Doãn", 0.1), ("Hứa", 0.1),
    ("Kim", 0.1), ("Âu", 0.1), ("Mạc", 0.1), ("Tăng", 0.1), ("La", 0.1), ("Khổng", 0.1),
    ("Từ", 0.1), ("Bạch", 0.1), ("Cù", 0.1), ("Tiêu", 0.1), ("Lục", 0.1), ("Quan", 0.1),
    ("Ninh", 0.1), ("Hán", 0.05), ("Ông", 0.05), ("Mẫn", 0.05), ("Khúc", 0.05), ("Lò", 0.05),
    ("Sầm", 0.03), ("Mông", 0.03), ("Thạch", 0.03), ("Công", 0.03), ("Ứng", 0.03),
)  # fmt: skip

# Pairs that the same family writes either way; a source may carry the other form.
FAMILY_VARIANTS: dict[str, str] = {"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}

# The cohort-marking middle names: most people born before 1975 carry them, few born after 2000.
MALE_CLASSIC_MIDDLE = "Văn"
FEMALE_CLASSIC_MIDDLE = "Thị"

MALE_MIDDLE: tuple[tuple[str, float], ...] = (
    ("Đức", 8), ("Minh", 8), ("Quang", 6), ("Hữu", 5), ("Công", 4), ("Thành", 4), ("Xuân", 4),
    ("Ngọc", 3), ("Mạnh", 3), ("Tuấn", 3), ("Hoàng", 3), ("Anh", 3), ("Gia", 3), ("Trung", 3),
    ("Đình", 4), ("Tiến", 2), ("Việt", 3), ("Duy", 3), ("Hải", 2), ("Bảo", 3), ("Thế", 2),
    ("Huy", 2), ("Quốc", 3), ("Trọng", 2), ("Khắc", 1), ("Như", 1), ("Bá", 1), ("Thanh", 3),
    ("Hồng", 1), ("Đăng", 2), ("Nhật", 2), ("Phúc", 1), ("Kim", 1), ("Tất", 0.5), ("Chí", 1),
    ("Hoài", 1), ("Tùng", 0.5), ("Sỹ", 1), ("Danh", 0.5), ("Trường", 1), ("Thái", 1),
)  # fmt: skip

FEMALE_MIDDLE: tuple[tuple[str, float], ...] = (
    ("Thu", 7), ("Ngọc", 7), ("Thanh", 6), ("Phương", 5), ("Minh", 5), ("Hồng", 4), ("Thùy", 4),
    ("Mai", 3), ("Khánh", 3), ("Bảo", 3), ("Hà", 2), ("Kim", 3), ("Lan", 2), ("Quỳnh", 2),
    ("Hải", 2), ("Diệu", 1), ("Tuyết", 1), ("Hoài", 1), ("Bích", 2), ("Thảo", 2), ("Vân", 1),
    ("Huyền", 1), ("Yến", 1), ("Như", 1), ("Tú", 1), ("Cẩm", 1), ("Mỹ", 2), ("Ánh", 1),
    ("Hương", 1), ("Nguyệt", 0.5), ("Trà", 0.5), ("Hạnh", 0.5), ("Ngân", 0.5), ("Khả", 0.5),
    ("Gia", 1), ("Thục", 0.5), ("Kiều", 0.5), ("Hoàng", 1), ("Anh", 1), ("Xuân", 1), ("Lệ", 0.5),
)  # fmt: skip

MALE_GIVEN: tuple[str, ...] = (
    "Anh", "Huy", "Nam", "Dũng", "Tuấn", "Hùng", "Minh", "Đức", "Long", "Hải", "Sơn", "Thắng",
    "Trung", "Hiếu", "Quân", "Khánh", "Phong", "Bình", "Cường", "Tùng", "Hoàng", "Việt", "Thành",
    "Hưng", "Kiên", "Đạt", "Lâm", "Khoa", "Phúc", "Quang", "Tâm", "Thịnh", "Toàn", "Vinh", "Vũ",
    "Mạnh", "Nghĩa", "Quý", "Tài", "Thái", "Thanh", "Tiến", "Trí", "Trọng", "Tú", "Bảo", "Chiến",
    "Công", "Duy", "Dương", "Đông", "Giang", "Hà", "Hậu", "Hiển", "Hiệp", "Hòa", "Hợp", "Khải",
    "Khang", "Khôi", "Kiệt", "Lân", "Linh", "Lộc", "Luân", "Lượng", "Nhân", "Nhật", "Ninh",
    "Phát", "Quyết", "Sang", "Sáng", "Tân", "Tấn", "Thạch", "Thông", "Thuận", "Thức", "Tín",
    "Toản", "Trường", "Tuyên", "Uy", "Vĩnh", "Vương", "Xuân", "An", "Bách", "Chính", "Đăng",
    "Điệp", "Định", "Đoàn", "Hoan", "Hội", "Huân", "Hướng", "Kha", "Khiêm", "Lợi", "Lực", "Nguyên",
    "Nhất", "Phi", "Phú", "Phụng", "Quốc", "Quyền", "Sỹ", "Tạo", "Thiện", "Thọ", "Thuấn", "Tiệp",
    "Trình", "Triều", "Trưởng", "Tường", "Văn", "Viễn", "Vỹ", "Bằng", "Cảnh", "Chung", "Diệu",
    "Doanh", "Dự", "Được", "Hạnh", "Hào", "Hiền", "Hoạt", "Khương", "Lành", "Lịch", "Mẫn", "Ngọc",
    "Pháp", "Quảng", "Sinh", "Sửu", "Tình", "Tỉnh", "Tuệ", "Vượng", "Yên", "Đại", "Đồng", "Hoành",
)  # fmt: skip

FEMALE_GIVEN: tuple[str, ...] = (
    "Linh", "Hương", "Hà", "Trang", "Hoa", "Lan", "Mai", "Ngọc", "Thảo", "Hằng", "Huyền", "Nga",
    "Phương", "Thủy", "Hạnh", "Anh", "Yến", "Vân", "Nhung", "Loan", "Thu", "Hiền", "Dung",
    "Oanh", "Quỳnh", "Trâm", "Ly", "Vy", "Nhi", "Châu", "My", "Chi", "Giang", "Hồng", "Hường",
    "Liên", "Liễu", "Lý", "Ngân", "Nguyệt", "Nhàn", "Phượng", "Tâm", "Thanh", "Thơ", "Thúy",
    "Thư", "Tuyết", "Uyên", "Xuân", "Ánh", "Bích", "Cúc", "Diệp", "Diệu", "Đào", "Gấm", "Hải",
    "Hậu", "Hoài", "Huệ", "Khanh", "Kim", "Lệ", "Lụa", "Mến", "Minh", "Na", "Quế", "Quyên",
    "Sen", "Sương", "Tuyền", "Thắm", "Thoa", "Thùy", "Trinh", "Vui", "Xoan", "Hân", "An",
    "Khuê", "Diễm", "Duyên", "Hảo", "Hòa", "Lài", "Luyến", "Mận", "Ngà", "Nhạn", "Phúc", "Thi",
    "Tình", "Trà", "Vinh", "Ái", "Bình", "Cầm", "Chinh", "Dịu", "Đoan", "Hiên", "Hiếu", "Hợp",
    "Khánh", "Lành", "Lưu", "Mơ", "Mỹ", "Nương", "Nhã", "Nhiên", "Phấn", "Sâm", "Tài", "Thoan",
    "Thục", "Thương", "Tiên", "Tươi", "Vấn", "Việt", "Yên", "Ngát", "Ngoan", "Như", "Đan",
    "Hạ", "Kiều", "Lam", "Xuyến", "Lựu", "Mỵ", "Nụ", "Phụng", "Quyền", "Thêu", "Thuận", "Tới",
)  # fmt: skip

# Hand-set weights of the most common given names (the rest follow a Zipf law by list position).
GIVEN_HEAD_WEIGHT = (60.0, 45.0, 40.0, 38.0, 35.0, 32.0, 30.0, 28.0, 26.0, 25.0)

ETHNIC_GROUPS: tuple[tuple[str, float], ...] = (
    ("Kinh", 92.0), ("Mường", 2.6), ("Tày", 1.4), ("Thái", 1.1), ("Nùng", 0.7), ("Dao", 0.6),
    ("H'Mông", 0.5), ("Hoa", 0.5), ("Sán Dìu", 0.2), ("Sán Chay", 0.1), ("Khmer", 0.1),
    ("Ê Đê", 0.05), ("Gia Rai", 0.05), ("Chăm", 0.05), ("Giáy", 0.05),
)  # fmt: skip

RELIGIONS: tuple[tuple[str, float], ...] = (
    ("Không", 86.0), ("Phật giáo", 7.5), ("Công giáo", 5.5), ("Tin lành", 0.5),
    ("Cao Đài", 0.2), ("Phật giáo Hòa Hảo", 0.1), ("Hồi giáo", 0.05),
)  # fmt: skip

NATIONALITY = "Việt Nam"

# Where people living in Hà Nội had their birth registered (personal-id province code).
BIRTH_PROVINCES: tuple[tuple[str, float], ...] = (
    ("001", 72.0), ("036", 3.0), ("038", 3.0), ("034", 2.5), ("040", 2.5), ("030", 1.5),
    ("033", 1.5), ("035", 1.5), ("037", 1.2), ("026", 1.2), ("025", 1.2), ("027", 1.0),
    ("024", 1.0), ("019", 0.8), ("031", 0.8), ("042", 0.8), ("017", 0.6), ("022", 0.5),
    ("079", 0.5), ("020", 0.3), ("014", 0.3), ("008", 0.3), ("015", 0.3), ("044", 0.3),
    ("045", 0.2), ("046", 0.2), ("048", 0.2), ("010", 0.2), ("002", 0.1), ("004", 0.1),
    ("006", 0.1), ("011", 0.1), ("012", 0.1), ("049", 0.1), ("051", 0.1), ("052", 0.1),
    ("066", 0.1), ("068", 0.1), ("075", 0.1), ("092", 0.1),
)  # fmt: skip

STREETS: tuple[str, ...] = (
    "Huỳnh Thúc Kháng", "Nguyễn Chí Thanh", "Láng Hạ", "Kim Mã", "Đội Cấn", "Hoàng Hoa Thám",
    "Phan Đình Phùng", "Hàng Bông", "Hàng Gai", "Lê Duẩn", "Giải Phóng", "Trường Chinh",
    "Tây Sơn", "Chùa Bộc", "Thái Hà", "Xã Đàn", "Đê La Thành", "Cầu Giấy", "Xuân Thủy",
    "Trần Duy Hưng", "Nguyễn Trãi", "Lê Văn Lương", "Tố Hữu", "Phạm Văn Đồng", "Hồ Tùng Mậu",
    "Nguyễn Văn Cừ", "Ngọc Lâm", "Minh Khai", "Bạch Mai", "Lạc Trung", "Kim Ngưu", "Tam Trinh",
    "Lĩnh Nam", "Giáp Bát", "Định Công", "Nguyễn Xiển", "Khuất Duy Tiến", "Lạc Long Quân",
    "Âu Cơ", "Nghi Tàm", "Thụy Khuê", "Hoàng Quốc Việt", "Trần Cung", "Phạm Hùng", "Mễ Trì",
    "Quang Trung", "Lê Trọng Tấn", "Tôn Đức Thắng", "Lý Thường Kiệt", "Trần Hưng Đạo",
    "Bà Triệu", "Hai Bà Trưng", "Phố Huế", "Đại Cồ Việt", "Trần Khát Chân", "Lò Đúc",
    "Hàng Bài", "Hàng Đào", "Hàng Ngang", "Hàng Bạc", "Nguyễn Lương Bằng", "Khâm Thiên",
    "Văn Cao", "Liễu Giai", "Ngọc Khánh", "Giảng Võ", "Cát Linh", "Trần Quang Khải",
    "Nguyễn Du", "Yên Phụ", "Thanh Niên", "Nguyễn Khánh Toàn", "Trung Kính", "Nguyễn Phong Sắc",
    "Dương Quảng Hàm", "Lê Đức Thọ", "Cổ Nhuế", "Ngô Gia Tự", "Nguyễn Văn Linh", "Vũ Trọng Phụng",
    "Lê Thanh Nghị", "Trương Định", "Kim Giang", "Vương Thừa Vũ", "Ngụy Như Kon Tum", "Hoàng Mai",
)  # fmt: skip

VILLAGES: tuple[str, ...] = (
    "Đông", "Đoài", "Nam", "Bắc", "Thượng", "Hạ", "Trung", "Cao", "Đình", "Chùa", "Văn Lãng",
    "An Hòa", "Phú Mỹ", "Tiên Lữ", "Đồng Xa", "Yên Bình", "Hòa Lạc", "Phú Thứ", "Cổ Đô",
    "Vân Hà", "Xuân Nộn", "Mai Lâm", "Đại Đồng", "Kim Lũ", "Thụy Lâm", "Tân Phú", "Lương Nỗ",
)  # fmt: skip

# Health facilities writing patient registers: (file-name code, record-id prefix, weight).
FACILITIES: tuple[tuple[str, str, float], ...] = (
    ("bachmai", "BM", 5.0), ("vietduc", "VD", 3.0), ("thanhnhan", "TN", 3.0),
    ("dongda", "DD", 2.5), ("saintpaul", "XP", 2.5), ("nhitw", "NT", 2.0),
    ("ttytsocson", "SS", 1.5), ("ttytbavi", "BV", 1.5),
)  # fmt: skip

DEATH_PLACES: tuple[str, ...] = (
    "Bệnh viện Bạch Mai", "Bệnh viện Hữu nghị Việt Đức", "Bệnh viện Thanh Nhàn",
    "Bệnh viện Đa khoa Đống Đa", "Bệnh viện Xanh Pôn", "Bệnh viện K", "Bệnh viện E",
)  # fmt: skip

MARITAL_SINGLE = "Chưa kết hôn"
MARITAL_MARRIED = "Đã kết hôn"
MARITAL_DIVORCED = "Ly hôn"
MARITAL_WIDOWED = "Góa"
SEX_LABELS = ("Nam", "Nữ")
