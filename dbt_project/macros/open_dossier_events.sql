{#- When an open dossier's stored judgement can change with the data's as-of alone. A model that
    judges open dossiers at the as-of (which moves every night) need not judge every open
    dossier again every night: its rows of a dossier that did not change only change when the
    as-of crosses one of the dossier's events. Each event is a moment `updated_at` such that the
    stored rows judged at an as-of T depend only on whether T >= updated_at; a run rebuilds the
    dossiers with an event after the previous run's as-of (the data's time saved for the
    dossiers stream: rebuild_keys) and at or before today's. As a source of rebuild_keys:
    {'stream': 'dossiers', 'relation': open_dossier_events(kind), 'key': 'dossier_code',
    'event': 'updated_at'}.
    Events of a dossier ended before them are dropped: its ended rows no longer move. -#}

{#- The moment the as-of's local day reaches `day_expr` (a date): a judgement on the day before
    the as-of (the last whole microsecond of it) reaches that day once the as-of is after its
    midnight. -#}
{% macro judged_day_reaches(day_expr) -%}
    (({{ day_expr }})::timestamp at time zone '{{ var('local_timezone') }}' + interval '1 microsecond')
{%- endmacro %}


{#- The dossiers that can have an event a run needs: open after the previous build's as-of
    (the model's saved watermark of the dossiers stream; an event before it is not read again,
    one after a dossier's end does not move it). Read through staging's index on (province,
    end), so the run reads the open backlog, not every dossier. The bound is the watermark
    less a day (a margin: reading a few more candidates costs little, missing one is wrong);
    no watermark saved: every dossier. -#}
{% macro open_since_previous_build() -%}
    (
        select candidates.province_code, candidates.dossier_code, candidates.open_until
        from {{ provinces_in(ref('stg_onestop__dossiers')) }} as provinces
        cross join lateral (
            select coalesce(
                min(saved.watermark) - interval '1 day',
                '-infinity'::timestamptz
            ) as since
            from {{ incremental_state_relation() }} as saved
            where saved.model = '{{ this.identifier if this is not none }}' and saved.stream = 'dossiers'
                and saved.province_code = provinces.province_code
        ) as previous
        cross join lateral (
            select staged.province_code, staged.dossier_code,
                {{ dossier_open_until('staged') }} as open_until
            from {{ ref('stg_onestop__dossiers') }} as staged
            where staged.province_code = provinces.province_code
                and {{ dossier_open_until('staged') }} >= previous.since
        ) as candidates
    )
{%- endmacro %}


{#- kind 'periods_judged' (int_dossier_periods_judged): a new month (every quarter and year
    starts a month) adds rows and closes the last month's at its end; "open on time" (working
    days since receipt, supplement waiting subtracted, within the allowance) flips only on the
    working day after the deadline, on the supplement's request or resubmission day, or on the
    deadline pushed back by a resubmitted supplement's waiting days: the net days grow
    with the judged day between those (a waiting supplement holds them still), so a flip
    happens at one of them.
    kind 'form06' (int_dossier_form06_quarters): a new calendar or legal quarter, and the
    appointment passing ("within the deadline" is due_at >= the as-of).
    kind 'months_judged' (int_dossier_months_judged): a new month, and the appointment
    passing (on time while due_at >= the as-of). -#}
{% macro open_dossier_events(kind) -%}
    {%- set tz = var('local_timezone') -%}
    {%- set asof_day = "(asof.latest at time zone '" ~ tz ~ "')::date" -%}
    {%- if kind == 'periods_judged' -%}
    (
        select dossiers.province_code, dossiers.dossier_code, event.updated_at
        from {{ open_since_previous_build() }} as candidates
        inner join {{ ref('int_dossier_deadlines') }} as dossiers
            on candidates.province_code = dossiers.province_code
            and candidates.dossier_code = dossiers.dossier_code
        inner join {{ latest_per_province(ref('int_dossiers_lifecycle')) }} as asof
            on dossiers.province_code = asof.province_code
        left join {{ ref('dim_date') }} as deadline_day
            on dossiers.deadline_date = deadline_day.date_day
        left join {{ ref('stg_onestop__dossier_supplements') }} as supplements
            on dossiers.province_code = supplements.province_code
            and dossiers.dossier_code = supplements.dossier_code
            and supplements.requested_at is not null
        left join {{ ref('dim_date') }} as requested_day
            on (supplements.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
        left join {{ ref('dim_date') }} as resubmitted_day
            on (supplements.resubmitted_at at time zone '{{ tz }}')::date = resubmitted_day.date_day
        left join {{ ref('dim_date') }} as overdue_day
            on overdue_day.working_day_number = deadline_day.working_day_number + 1
            and overdue_day.is_working_day
        left join {{ ref('dim_date') }} as pushed_overdue_day
            on pushed_overdue_day.working_day_number = deadline_day.working_day_number + 1
                + resubmitted_day.working_day_number - requested_day.working_day_number
            and pushed_overdue_day.is_working_day
        cross join lateral (
            values
                ((date_trunc('month', {{ asof_day }}))::timestamp at time zone '{{ tz }}'),
                ({{ judged_day_reaches('overdue_day.date_day') }}),
                ({{ judged_day_reaches('requested_day.date_day') }}),
                ({{ judged_day_reaches('resubmitted_day.date_day') }}),
                ({{ judged_day_reaches('pushed_overdue_day.date_day') }})
        ) as event (updated_at)
        where event.updated_at <= asof.latest
            and candidates.open_until >= event.updated_at
    )
    {%- elif kind in ('form06', 'months_judged') -%}
    {%- set grains = ['quarter', 'legal_quarter'] if kind == 'form06' else ['month'] -%}
    (
        select dossiers.province_code, dossiers.dossier_code, event.updated_at
        from {{ open_since_previous_build() }} as candidates
        inner join {{ ref('stg_onestop__dossiers') }} as dossiers
            on candidates.province_code = dossiers.province_code
            and candidates.dossier_code = dossiers.dossier_code
        inner join {{ latest_per_province(ref('int_dossiers_lifecycle')) }} as asof
            on dossiers.province_code = asof.province_code
        cross join lateral (
            values
                {%- for grain in grains %}
                ({{ period_containing(grain, asof_day) }}::timestamp at time zone '{{ tz }}'),
                {%- endfor %}
                (dossiers.due_at + interval '1 microsecond')
        ) as event (updated_at)
        where dossiers.received_at is not null
            and event.updated_at <= asof.latest
            and candidates.open_until >= event.updated_at
    )
    {%- else -%}
        {{ exceptions.raise_compiler_error('open_dossier_events: unknown kind ' ~ kind) }}
    {%- endif -%}
{%- endmacro %}
