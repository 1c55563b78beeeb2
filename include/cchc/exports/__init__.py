"""Files a person opens: indicator workbooks and reports written from the marts."""
