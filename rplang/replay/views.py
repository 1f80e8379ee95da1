"""The names the policy's query and the engines share, apart from the query's builders (which
import SQLGlot): the views an engine makes before it runs the query, and the columns it reads
back from it."""

INPUT = "rpl_input"  # the input rows, as the engine sees them
CALENDAR, BUSINESS_DAYS = "rpl_calendar", "rpl_business_days"
FALLBACK, REQUEST = "__fallback", "__request"  # whether a row is the Python path's; its request
