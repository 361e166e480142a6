-- An indicator's perf.kpi_result rows for one month (indicator_id, period_start, scope_type,
-- scope_code, breakdown, breakdown_value, numerator, denominator, value, all text), aggregated
-- from its unit query: the text of a statement in services/performance/sql/indicator_*.sql,
-- run here with $1 = p_start and $2 = p_end (dates). A unit query returns a row per person or
-- event with the columns provider_code, icb_code, council_code, eth_code (the NHS ethnic
-- category, counted under its upper group), age_band, sex, in_num, in_den, amount and, when the
-- indicator has its own breakdown (p_detail_breakdown, e.g. 'overdue_band'), detail.
--
-- Every scope and breakdown at once (GROUPING SETS): England ('all'), each provider, ICB and
-- council, each crossed with no breakdown ('none'), ethnicity, age band, sex and the detail
-- breakdown. The value by kind: 'ratio' 100 * numerator / denominator to 2 places, 'count' the
-- numerator, 'sum' the total amount, otherwise ('median') the median amount to 1 place.
CREATE OR REPLACE FUNCTION perf.kpi_results(p_indicator_id text, p_start date, p_end date,
                                            p_kind text, p_detail_breakdown text,
                                            p_unit_query text)
RETURNS TABLE (indicator_id text, period_start text, scope_type text, scope_code text,
               breakdown text, breakdown_value text, numerator text, denominator text,
               value text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT %1$L, to_char($1, 'YYYY-MM-DD'), scope_type, scope_code, breakdown, breakdown_value,
           num::text, den::text,
           CASE %2$L WHEN 'ratio' THEN CASE WHEN den > 0 THEN round(100.0 * num / den, 2) END
                     WHEN 'count' THEN num
                     WHEN 'sum' THEN total
                     ELSE median END::text
    FROM (
      SELECT CASE WHEN GROUPING(provider_code) = 0 THEN 'provider'
                  WHEN GROUPING(icb_code) = 0 THEN 'icb'
                  WHEN GROUPING(council_code) = 0 THEN 'council'
                  ELSE 'all' END AS scope_type,
             coalesce(CASE WHEN GROUPING(provider_code) = 0 THEN provider_code
                           WHEN GROUPING(icb_code) = 0 THEN icb_code
                           WHEN GROUPING(council_code) = 0 THEN council_code
                           ELSE '' END, '') AS scope_code,
             CASE WHEN GROUPING(eth_group) = 0 THEN 'ethnicity'
                  WHEN GROUPING(age_band) = 0 THEN 'age_band'
                  WHEN GROUPING(sex) = 0 THEN 'sex'
                  %3$s
                  ELSE 'none' END AS breakdown,
             coalesce(CASE WHEN GROUPING(eth_group) = 0 THEN eth_group
                           WHEN GROUPING(age_band) = 0 THEN age_band
                           WHEN GROUPING(sex) = 0 THEN sex
                           %4$s
                           ELSE '' END, 'Unknown') AS breakdown_value,
             coalesce(sum(in_num), 0) AS num,
             sum(in_den) AS den,
             round(sum(amount), 2) AS total,
             round((percentile_cont(0.5) WITHIN GROUP (ORDER BY amount))::numeric, 1) AS median
      FROM (
        SELECT u.*, coalesce(m.group_code, 'Unknown') AS eth_group
        FROM (%5$s) u
        LEFT JOIN perf.ethnic_upper_group m ON m.code = u.eth_code
      ) u
      GROUP BY GROUPING SETS (
        (), (eth_group), (age_band), (sex),
        (provider_code), (provider_code, eth_group), (provider_code, age_band), (provider_code, sex),
        (icb_code), (icb_code, eth_group), (icb_code, age_band), (icb_code, sex),
        (council_code), (council_code, eth_group), (council_code, age_band), (council_code, sex)
        %6$s)
    ) g
    WHERE scope_type = 'all' OR scope_code <> ''$q$,
    p_indicator_id, p_kind,
    CASE WHEN p_detail_breakdown IS NOT NULL
         THEN format('WHEN GROUPING(detail) = 0 THEN %L', p_detail_breakdown) END,
    CASE WHEN p_detail_breakdown IS NOT NULL THEN 'WHEN GROUPING(detail) = 0 THEN detail' END,
    p_unit_query,
    CASE WHEN p_detail_breakdown IS NULL THEN ''
         ELSE ', (detail), (provider_code, detail), (icb_code, detail), (council_code, detail)' END)
  USING p_start, p_end;
END
$$;
