{#- Post-hook of every model: ANALYZE a table (full or incremental) when its statistics no
    longer describe it, so the models reading it are planned on its current contents.
    PostgreSQL has none for a table just created (the planner then picks nested loops over
    tens of thousands of rows), and autovacuum may come too late for the next model. A night
    that changed a few rows of a large incremental table skips it: ANALYZE samples up to
    30,000 rows and would cost more than the night's changes. Re-analyzed when the rows
    inserted, updated or deleted since the last ANALYZE (this transaction's included) exceed
    20% of the table, or it was never analyzed. Views have nothing to analyze. -#}
{% macro analyze_relation() -%}
    {%- if config.get('materialized') == 'table' or not is_incremental() -%}
        {%- if config.get('materialized') in ('table', 'incremental') -%}
            analyze {{ this }}
        {%- else -%}
            select 1
        {%- endif -%}
    {%- else -%}
        do $$
        begin
            if (
                select
                    coalesce(stats.last_analyze, stats.last_autoanalyze) is null
                    or coalesce(stats.n_mod_since_analyze, 0)
                        + coalesce(tx.n_tup_ins + tx.n_tup_upd + tx.n_tup_del, 0)
                        > 0.2 * greatest(class.reltuples, 0)
                from pg_class as class
                left join pg_stat_user_tables as stats on stats.relid = class.oid
                left join pg_stat_xact_user_tables as tx on tx.relid = class.oid
                where class.oid = '{{ this }}'::regclass
            ) then
                analyze {{ this }};
            end if;
        end
        $$
    {%- endif -%}
{%- endmacro %}
