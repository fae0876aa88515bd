"""Korean dates ("2026년 11월 23일"), times 24-hour with the time zone named."""

DATE_FORMAT = "Y년 n월 j일"
SHORT_DATE_FORMAT = "Y년 n월 j일"
DATETIME_FORMAT = "Y년 n월 j일 H:i T"
SHORT_DATETIME_FORMAT = "Y년 n월 j일 H:i T"
TIME_FORMAT = "H:i T"
MONTH_DAY_FORMAT = "n월 j일"
YEAR_MONTH_FORMAT = "Y년 n월"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y.%m.%d", "%Y년 %m월 %d일"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 0
