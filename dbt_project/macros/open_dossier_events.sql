{#- When an open dossier's stored judgement can change with the data's as-of alone. A model that
    judges open dossiers at the as-of (which moves every night) need not judge every open
    dossier again every night: its rows of a dossier that did not change only change when the
    as-of crosses one of the dossier's events. Each event is a moment `updated_at` such that the
    stored rows judged at an as-of T depend only on whether T >= updated_at; a run rebuilds the
    dossiers with an event after the previous run's as-of (the data's time saved for the
    dossiers stream: rebuild_keys) and at or before today's. As a source of rebuild_keys:
    {'stream': 'dossiers', 'relation': open_dossier_events(kind), 'key': 'dossier_code',
    'event': 'updated_at', 'provinces': ref('stg_onestop__dossiers')}.
    Events of a dossier ended before them are dropped: its ended rows no longer move.
    rebuild_keys reads the relation for one province and `updated_at` after the previous
    as-of, four times a run (the model and three hooks): each part below is read through an
    index on that range, so a night reads the night's events, not the open backlog. -#}

{#- The moment the as-of's local day reaches `day_expr` (a date): a judgement on the day before
    the as-of (the last whole microsecond of it) reaches that day once the as-of is after its
    midnight. -#}
{% macro judged_day_reaches(day_expr) -%}
    (({{ day_expr }})::timestamp at time zone '{{ var('local_timezone') }}' + interval '1 microsecond')
{%- endmacro %}


{#- The as-of per province: one backward probe of staging's index on (province, updated_at)
    (the same moment as int_dossiers_lifecycle's latest update, which the models judge at). -#}
{% macro events_asof() -%}
    {{ latest_per_province(ref('stg_onestop__dossiers')) }}
{%- endmacro %}


{#- A dossier's stored events of `event_kind` (int_dossier_asof_events) up to the as-of. -#}
{% macro stored_dossier_events(event_kind) -%}
    select events.province_code, events.dossier_code, events.event_at as updated_at
    from {{ ref('int_dossier_asof_events') }} as events
    inner join {{ events_asof() }} as asof
        on events.province_code = asof.province_code
    where events.event_kind = '{{ event_kind }}'
        and events.event_at <= asof.latest
{%- endmacro %}


{#- A new period (the start of the as-of's period of each grain) is the event of every dossier
    open at its start: read through staging's index on (province, end) only on the night the
    as-of crosses it (the filter on updated_at holds the period's start alone, so the scan
    does not run on the other nights). -#}
{% macro period_start_events(grains) -%}
    {%- set tz = var('local_timezone') -%}
    {%- set asof_day = "(asof.latest at time zone '" ~ tz ~ "')::date" -%}
    select staged.province_code, staged.dossier_code, period.updated_at
    from {{ events_asof() }} as asof
    cross join lateral (
        values
            {%- for grain in grains %}
            ({{ period_containing(grain, asof_day) }}::timestamp at time zone '{{ tz }}'){{ "," if not loop.last }}
            {%- endfor %}
    ) as period (updated_at)
    inner join {{ ref('stg_onestop__dossiers') }} as staged
        on staged.province_code = asof.province_code
        and {{ dossier_open_until('staged') }} >= period.updated_at
    where period.updated_at <= asof.latest
        and staged.received_at is not null
{%- endmacro %}


{#- kind 'periods_judged' (int_dossier_periods_judged): a new month (every quarter and year
    starts a month) adds rows and closes the last month's at its end; "open on time" flips
    only at the working-day events int_dossier_asof_events keeps.
    kind 'form06' (int_dossier_form06_quarters): a new calendar or legal quarter, and the
    appointment passing.
    kind 'months_judged' (int_dossier_months_judged): a new month, and the appointment
    passing.
    kind 'deadlines' (int_dossier_deadlines): a supplement request still waiting in an open
    dossier runs to the as-of, so its waiting time changes whenever the as-of moves (the
    event is the as-of itself); no other column depends on the as-of. The waiting requests
    are a few thousand rows of the supplements, read once the as-of has moved. -#}
{% macro open_dossier_events(kind) -%}
    {%- if kind == 'periods_judged' -%}
    (
        {{ stored_dossier_events('periods_judged') }}
        union all
        {{ period_start_events(['month']) }}
    )
    {%- elif kind in ('form06', 'months_judged') -%}
    (
        {{ stored_dossier_events('appointment') }}
        union all
        {{ period_start_events(['quarter', 'legal_quarter'] if kind == 'form06' else ['month']) }}
    )
    {%- elif kind == 'deadlines' -%}
    (
        select supplements.province_code, supplements.dossier_code, asof.latest as updated_at
        from {{ events_asof() }} as asof
        inner join {{ ref('stg_onestop__dossier_supplements') }} as supplements
            on supplements.province_code = asof.province_code
        inner join {{ ref('stg_onestop__dossiers') }} as staged
            on supplements.province_code = staged.province_code
            and supplements.dossier_code = staged.dossier_code
        where supplements.requested_at is not null
            and supplements.resubmitted_at is null
            and {{ dossier_open_until('staged') }} = 'infinity'::timestamptz
    )
    {%- else -%}
        {{ exceptions.raise_compiler_error('open_dossier_events: unknown kind ' ~ kind) }}
    {%- endif -%}
{%- endmacro %}
