using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Intents.Entities;

/// <summary>
/// A small date/time resolver (English and Chinese). It finds day expressions (today, tomorrow, weekdays, month
/// days, ISO dates), times of day (7pm, 7:30, at 7, noon, 早上7点), parts of the day (morning, 晚上) and relative
/// expressions (in 10 minutes, 10分钟后), joins a day with an adjacent time, and resolves them against a reference time
/// in a time zone. An hour without am/pm is the next such time after the reference (for today), or 7–12 as morning and
/// 1–6 as afternoon (for another day).
/// </summary>
internal static partial class DateTimeParser
{
    private const string Num = @"\d{1,2}|[零一二两三四五六七八九十]{1,3}";
    private const string EnNumWords = @"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|forty-five|fifty|sixty|ninety";

    private enum Part { None, Morning, Noon, Afternoon, Evening, Night }

    private sealed record Piece(int Start, int End, string Kind)
    {
        public int DayOffset { get; init; }
        public DateOnly? Date { get; init; }
        public DayOfWeek? Weekday { get; init; }
        public int WeekShift { get; init; }
        public int Hour { get; init; } = -1;
        public int Minute { get; init; }
        public bool? Pm { get; init; }
        public bool Explicit24 { get; init; }
        public Part Part { get; init; }
        public TimeSpan Offset { get; init; }
    }

    [GeneratedRegex(@"\b(?:the\s+)?day\s+after\s+tomorrow\b|\bday\s+before\s+yesterday\b|\btoday\b|\btomorrow\b|\byesterday\b|\btonight\b|大后天|后天|明天|明日|今天|今日|昨天|前天|今晚|明晚", RegexOptions.CultureInvariant)]
    private static partial Regex RelativeDayRegex();

    [GeneratedRegex(@"\b(?:(this|next|on|last|coming)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|(下下|下|上|这|本)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天])", RegexOptions.CultureInvariant)]
    private static partial Regex WeekdayRegex();

    [GeneratedRegex(@"\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)|(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\s+(\d{1,2})(?:st|nd|rd|th)?)(?:,?\s+(\d{4}))?\b|\b(\d{4})-(\d{2})-(\d{2})\b|(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]", RegexOptions.CultureInvariant)]
    private static partial Regex DateRegex();

    [GeneratedRegex(@"(?:\b(?:at\s+|@\s*))?\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?![a-z])|(?:\bat\s+)?\b(\d{1,2}):(\d{2})\b|\bat\s+(\d{1,2})(?:\s*o'?clock)?\b(?!\s*(?:%|percent|minutes?|hours?|days?|degrees?))|\b(\d{1,2})\s*o'?clock\b|(?:\bat\s+)?\b(noon|midday|midnight)\b", RegexOptions.CultureInvariant)]
    private static partial Regex TimeRegex();

    [GeneratedRegex(@"(\d{1,2}|[零一二两三四五六七八九十]{1,3})[点點時时](?:(半)|(\d{1,2}|[零一二三四五六七八九十]{1,3})分?|(一刻|三刻))?|(\d{1,2})[:：](\d{2})", RegexOptions.CultureInvariant)]
    private static partial Regex ChineseTimeRegex();

    [GeneratedRegex(@"\b(?:in\s+the\s+|this\s+)?(morning|afternoon|evening|night)\b|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|凌晨", RegexOptions.CultureInvariant)]
    private static partial Regex PartRegex();

    [GeneratedRegex(@"\bin\s+(half\s+an?|an?|\d+(?:\.\d+)?|" + EnNumWords + @")\s+(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\b|\b(\d+(?:\.\d+)?|an?|" + EnNumWords + @")\s+(seconds?|minutes?|mins?|hours?|days?|weeks?)\s+(from\s+now|later|ago)\b|\bin\s+half\s+an\s+hour\b", RegexOptions.CultureInvariant)]
    private static partial Regex RelativeRegex();

    [GeneratedRegex(@"(半|\d+|[一二两三四五六七八九十百]+)(?:个)?(秒钟?|分钟|小时|钟头|天|周|星期|个月)(?:以后|之后|后)|(半)个?小时(?:以后|之后|后)", RegexOptions.CultureInvariant)]
    private static partial Regex ChineseRelativeRegex();

    public static List<(int Start, int Length, DateTimeOffset Value)> Find(string text, DateTimeOffset now, TimeZoneInfo zone)
    {
        var lower = text.ToLowerInvariant();
        var pieces = new List<Piece>();
        foreach (Match m in RelativeDayRegex().Matches(lower))
        {
            var v = m.Value;
            var (offset, part) = v switch
            {
                _ when v.StartsWith("day before", StringComparison.Ordinal) => (-2, Part.None),
                _ when v.Contains("after", StringComparison.Ordinal) => (2, Part.None),
                "today" or "今天" or "今日" => (0, Part.None),
                "tomorrow" or "明天" or "明日" => (1, Part.None),
                "yesterday" or "昨天" => (-1, Part.None),
                "tonight" or "今晚" => (0, Part.Evening),
                "明晚" => (1, Part.Evening),
                "后天" => (2, Part.None),
                "大后天" => (3, Part.None),
                "前天" => (-2, Part.None),
                _ => (0, Part.None),
            };
            pieces.Add(new Piece(m.Index, m.Index + m.Length, "day") { DayOffset = offset, Part = part });
        }
        foreach (Match m in WeekdayRegex().Matches(lower))
        {
            DayOfWeek day;
            var shift = 0;
            if (m.Groups[2].Success)
            {
                day = Enum.Parse<DayOfWeek>(m.Groups[2].Value, ignoreCase: true);
                shift = m.Groups[1].Value switch { "last" => -1, "this" => 0, _ => 0 };
                if (m.Groups[1].Value == "last") shift = -1;
            }
            else
            {
                day = m.Groups[4].Value switch
                {
                    "一" => DayOfWeek.Monday, "二" => DayOfWeek.Tuesday, "三" => DayOfWeek.Wednesday, "四" => DayOfWeek.Thursday,
                    "五" => DayOfWeek.Friday, "六" => DayOfWeek.Saturday, _ => DayOfWeek.Sunday,
                };
                shift = m.Groups[3].Value switch { "下" => 1, "下下" => 2, "上" => -1, _ => 0 };
                shift = shift == 0 ? 100 : shift; // 100: this week's day (这周/周X)
            }
            pieces.Add(new Piece(m.Index, m.Index + m.Length, "weekday") { Weekday = day, WeekShift = shift });
        }
        foreach (Match m in DateRegex().Matches(lower))
        {
            int year = -1, month, dayOfMonth;
            if (m.Groups[6].Success)
            {
                year = int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture);
                month = int.Parse(m.Groups[7].Value, CultureInfo.InvariantCulture);
                dayOfMonth = int.Parse(m.Groups[8].Value, CultureInfo.InvariantCulture);
            }
            else if (m.Groups[10].Success)
            {
                if (m.Groups[9].Success) year = int.Parse(m.Groups[9].Value, CultureInfo.InvariantCulture);
                month = int.Parse(m.Groups[10].Value, CultureInfo.InvariantCulture);
                dayOfMonth = int.Parse(m.Groups[11].Value, CultureInfo.InvariantCulture);
            }
            else
            {
                var monthName = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
                month = MonthNumber(monthName);
                dayOfMonth = int.Parse(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[4].Value, CultureInfo.InvariantCulture);
                if (m.Groups[5].Success) year = int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
            }
            var local = TimeZoneInfo.ConvertTime(now, zone);
            var y = year > 0 ? year : local.Year;
            if (month is < 1 or > 12 || dayOfMonth < 1 || dayOfMonth > DateTime.DaysInMonth(y, month)) continue;
            var date = new DateOnly(y, month, dayOfMonth);
            if (year < 0 && date < DateOnly.FromDateTime(local.DateTime) && dayOfMonth <= DateTime.DaysInMonth(y + 1, month)) date = date.AddYears(1);
            pieces.Add(new Piece(m.Index, m.Index + m.Length, "date") { Date = date });
        }
        foreach (Match m in TimeRegex().Matches(lower))
        {
            Piece p;
            if (m.Groups[1].Success)
            {
                p = new Piece(m.Index, m.Index + m.Length, "time")
                {
                    Hour = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                    Minute = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
                    Pm = m.Groups[3].Value.StartsWith('p'),
                };
            }
            else if (m.Groups[4].Success)
            {
                var h = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
                p = new Piece(m.Index, m.Index + m.Length, "time")
                {
                    Hour = h,
                    Minute = int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture),
                    Explicit24 = h > 12 || m.Groups[4].Value.StartsWith('0'),
                };
            }
            else if (m.Groups[6].Success || m.Groups[7].Success)
            {
                p = new Piece(m.Index, m.Index + m.Length, "time")
                {
                    Hour = int.Parse(m.Groups[6].Success ? m.Groups[6].Value : m.Groups[7].Value, CultureInfo.InvariantCulture),
                };
            }
            else
            {
                var midnight = m.Groups[8].Value == "midnight";
                p = new Piece(m.Index, m.Index + m.Length, "time") { Hour = midnight ? 0 : 12, Explicit24 = true, DayOffset = midnight ? 1 : 0 };
            }
            if (p.Hour > 23 || p.Minute > 59) continue;
            if (p.Hour > 12) p = p with { Explicit24 = true, Pm = null };
            pieces.Add(p);
        }
        foreach (Match m in ChineseTimeRegex().Matches(text))
        {
            int hour, minute = 0;
            if (m.Groups[5].Success)
            {
                hour = int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
                minute = int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture);
            }
            else
            {
                if (!NumberParser.TryParse(m.Groups[1].Value, out var h)) continue;
                hour = (int)h;
                if (m.Groups[2].Success) minute = 30;
                else if (m.Groups[3].Success && NumberParser.TryParse(m.Groups[3].Value, out var mm)) minute = (int)mm;
                else if (m.Groups[4].Success) minute = m.Groups[4].Value == "一刻" ? 15 : 45;
            }
            if (hour > 23 || minute > 59) continue;
            if (pieces.Any(q => q.Kind == "time" && q.Start < m.Index + m.Length && m.Index < q.End)) continue;
            pieces.Add(new Piece(m.Index, m.Index + m.Length, "time") { Hour = hour, Minute = minute, Explicit24 = hour > 12 });
        }
        foreach (Match m in PartRegex().Matches(lower))
        {
            var v = m.Groups[1].Success ? m.Groups[1].Value : m.Value;
            var part = v switch
            {
                "morning" or "早上" or "早晨" or "上午" or "凌晨" => Part.Morning,
                "中午" => Part.Noon,
                "afternoon" or "下午" => Part.Afternoon,
                "evening" or "傍晚" or "晚上" => Part.Evening,
                _ => Part.Night,
            };
            pieces.Add(new Piece(m.Index, m.Index + m.Length, "part") { Part = part });
        }
        foreach (Match m in RelativeRegex().Matches(lower))
        {
            string amountText, unitText;
            var sign = 1;
            if (m.Groups[1].Success) { amountText = m.Groups[1].Value; unitText = m.Groups[2].Value; }
            else if (m.Groups[3].Success) { amountText = m.Groups[3].Value; unitText = m.Groups[4].Value; sign = m.Groups[5].Value == "ago" ? -1 : 1; }
            else { amountText = "half an"; unitText = "hour"; }
            var amount = amountText.StartsWith("half", StringComparison.Ordinal) ? 0.5m
                : NumberParser.TryParse(amountText, out var a) ? a : 1m;
            if (UnitOf(unitText) is not { } unit) continue;
            pieces.Add(new Piece(m.Index, m.Index + m.Length, "relative") { Offset = sign * Scale(unit, amount) });
        }
        foreach (Match m in ChineseRelativeRegex().Matches(text))
        {
            decimal amount;
            string unitText;
            if (m.Groups[4].Success) { amount = 0.5m; unitText = "小时"; }
            else
            {
                amount = m.Groups[1].Value == "半" ? 0.5m : NumberParser.TryParse(m.Groups[1].Value, out var a) ? a : 1m;
                unitText = m.Groups[2].Value;
            }
            var unit = unitText switch
            {
                "秒" or "秒钟" => "second", "分钟" => "minute", "小时" or "钟头" => "hour", "天" => "day", "周" or "星期" => "week", _ => "month",
            };
            pieces.Add(new Piece(m.Index, m.Index + m.Length, "relative") { Offset = Scale(unit, amount) });
        }
        return Combine(pieces, text, now, zone);
    }

    private static List<(int Start, int Length, DateTimeOffset Value)> Combine(List<Piece> pieces, string text, DateTimeOffset now, TimeZoneInfo zone)
    {
        // Longest, earliest pieces first; drop pieces overlapping a kept one.
        var kept = new List<Piece>();
        var occupied = new Occupancy(text.Length);
        foreach (var p in pieces.OrderByDescending(p => p.End - p.Start).ThenBy(p => p.Start))
        {
            if (occupied.TryTake(p.Start, p.End)) kept.Add(p);
        }
        kept.Sort((a, b) => a.Start.CompareTo(b.Start));
        var used = new bool[kept.Count];
        var result = new List<(int, int, DateTimeOffset)>();
        var local = TimeZoneInfo.ConvertTime(now, zone);
        for (var i = 0; i < kept.Count; i++)
        {
            if (used[i]) continue;
            var p = kept[i];
            if (p.Kind == "relative")
            {
                used[i] = true;
                result.Add((p.Start, p.End - p.Start, TimeZoneInfo.ConvertTime(now + p.Offset, zone)));
                continue;
            }
            // Gather a group of adjacent day/date/weekday/time/part pieces.
            var group = new List<int> { i };
            var end = p.End;
            for (var j = i + 1; j < kept.Count; j++)
            {
                if (used[j] || kept[j].Kind == "relative" || !Adjacent(text, end, kept[j].Start)) break;
                if (group.Any(g => Slot(kept[g].Kind) == Slot(kept[j].Kind))) break;
                group.Add(j);
                end = kept[j].End;
            }
            var day = group.Select(g => kept[g]).FirstOrDefault(g => g.Kind is "day" or "date" or "weekday");
            var time = group.Select(g => kept[g]).FirstOrDefault(g => g.Kind == "time");
            var partPiece = group.Select(g => kept[g]).FirstOrDefault(g => g.Kind == "part");
            if (day is null && time is null) continue; // a lone part of day ("in the morning") is not a date
            foreach (var g in group) used[g] = true;
            var part = partPiece?.Part ?? day?.Part ?? Part.None;
            var value = Resolve(day, time, part, local);
            var start = kept[group[0]].Start;
            result.Add((start, end - start, new DateTimeOffset(value, zone.GetUtcOffset(value))));
        }
        return result;
    }

    private static int Slot(string kind) => kind switch { "day" or "date" or "weekday" => 0, "time" => 1, "part" => 2, _ => 3 };

    private static bool Adjacent(string text, int end, int start)
    {
        if (start < end) return false;
        var gap = text[end..start].Trim().ToLowerInvariant();
        return gap is "" or "," or "at" or "on" or "the" or "by" or "of" or "at around" or "around" or "的";
    }

    private static DateTime Resolve(Piece? day, Piece? time, Part part, DateTimeOffset local)
    {
        var today = DateOnly.FromDateTime(local.DateTime);
        DateOnly? date = null;
        if (day is not null)
        {
            date = day.Kind switch
            {
                "date" => day.Date!.Value,
                "weekday" => WeekdayDate(today, day.Weekday!.Value, day.WeekShift),
                _ => today.AddDays(day.DayOffset),
            };
        }
        if (time is null)
        {
            var hour = part switch { Part.Morning => 9, Part.Noon => 12, Part.Afternoon => 15, Part.Evening => 19, Part.Night => 21, _ => 0 };
            return (date ?? today).ToDateTime(new TimeOnly(hour, 0));
        }
        var h = time.Hour;
        var minute = time.Minute;
        date ??= today.AddDays(time.DayOffset);
        if (time.Pm == true && h < 12) h += 12;
        else if (time.Pm == false && h == 12) h = 0;
        else if (time.Pm is null && !time.Explicit24 && h <= 12)
        {
            if (part is Part.Afternoon or Part.Evening && h < 12) h += 12;
            else if (part == Part.Night && h is >= 6 and < 12) h += 12;
            else if (part == Part.Noon && h < 6) h += 12;
            else if (part == Part.None)
            {
                if (date == today)
                {
                    // The next such time after now: 7 → 07:00 if still ahead, else 19:00.
                    var candidate = date.Value.ToDateTime(new TimeOnly(h % 12, minute));
                    if (candidate <= local.DateTime) candidate = candidate.AddHours(12);
                    if (candidate <= local.DateTime) candidate = candidate.AddHours(12);
                    return candidate;
                }
                if (h < 7) h += 12;
            }
        }
        var result = date.Value.ToDateTime(new TimeOnly(h % 24, minute));
        if (day is null && time.DayOffset == 0 && result <= local.DateTime) result = result.AddDays(1);
        return result;
    }

    private static DateOnly WeekdayDate(DateOnly today, DayOfWeek target, int shift)
    {
        var ahead = ((int)target - (int)today.DayOfWeek + 7) % 7;
        if (shift == -1) return today.AddDays(ahead == 0 ? -7 : ahead - 7);
        if (shift >= 100)
        {
            // Chinese 周X / 这周X: the day of the current Monday-based week.
            var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
            return monday.AddDays(((int)target + 6) % 7);
        }
        if (shift >= 1 && shift < 100)
        {
            var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
            return monday.AddDays(7 * shift + ((int)target + 6) % 7);
        }
        return today.AddDays(ahead == 0 ? 7 : ahead);
    }

    private static int MonthNumber(string name) => name[..3] switch
    {
        "jan" => 1, "feb" => 2, "mar" => 3, "apr" => 4, "may" => 5, "jun" => 6,
        "jul" => 7, "aug" => 8, "sep" => 9, "oct" => 10, "nov" => 11, _ => 12,
    };

    private static string? UnitOf(string u) => u.TrimEnd('s') switch
    {
        "second" or "sec" => "second",
        "minute" or "min" => "minute",
        "hour" or "hr" => "hour",
        "day" => "day",
        "week" => "week",
        "month" => "month",
        _ => null,
    };

    private static TimeSpan Scale(string unit, decimal amount) => unit switch
    {
        "second" => TimeSpan.FromSeconds((double)amount),
        "minute" => TimeSpan.FromMinutes((double)amount),
        "hour" => TimeSpan.FromHours((double)amount),
        "day" => TimeSpan.FromDays((double)amount),
        "week" => TimeSpan.FromDays(7 * (double)amount),
        _ => TimeSpan.FromDays(30 * (double)amount),
    };
}
