"""UI strings: German first, English second. Unknown keys fail loudly in tests."""
from __future__ import annotations

LANGS = ("de", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("Ortsatlas", "Ortsatlas"),
    "nav_map": ("Karte", "Map"),
    "indicator": ("Indikator", "Indicator"),
    "indicator_search": ("Indikator suchen …", "Search indicator …"),
    "period": ("Zeitraum", "Period"),
    "method": ("Klassenbildung", "Classification"),
    "classes": ("Klassen", "Classes"),
    "timeseries": ("Zeitreihe", "Time series"),
    "info": ("Über den Indikator", "About the indicator"),
    "controls": ("Auswahl", "Selection"),
    "click_area": ("Ein Gebiet in der Karte antippen, um seine Zeitreihe zu sehen.",
                   "Tap an area on the map to see its time series."),
    "unavailable_view": ("Die angeforderte Ansicht ist nicht verfügbar. Es wird die Standardansicht gezeigt.",
                         "The requested view is not available. Showing the default view."),
    "no_indicators": ("Für Sie sind keine Indikatoren freigegeben.", "No indicators are released to you."),
    "definition": ("Definition", "Definition"),
    "unit": ("Einheit", "Unit"),
    "source": ("Quelle", "Source"),
    "department": ("Fachamt", "Department"),
    "contact": ("Ansprechperson", "Contact"),
    "last_update": ("Letzte Aktualisierung", "Last update"),
    "licence": ("Lizenz", "Licence"),
    "numerator": ("Zähler", "Numerator"),
    "denominator": ("Nenner", "Denominator"),
    "periods": ("Verfügbare Zeiträume", "Available periods"),
    "visibility": ("Sichtbarkeit", "Visibility"),
    "vis_public": ("öffentlich", "public"),
    "vis_internal": ("intern", "internal"),
    "vis_restricted": ("eingeschränkt (Fachamt)", "restricted (department)"),
    "not_aggregable": ("Nicht auf höhere Ebenen aggregierbar.", "Not aggregable to higher levels."),
    # {variant}: the projection's variant as confirmed ("Hauptvariante 2025"); charts, map titles, coverage.
    "projection": ("Prognose ({variant})", "Projection ({variant})"),
    "projection_note": ("Gestrichelt ab {period}: {label}, keine beobachteten Werte.",
                        "Dashed from {period}: {label}, not observed figures."),
    "boundary_change": ("Gebietsstand", "Boundaries"),
    "predecessor": ("Vorgänger", "Predecessor"),
    "city": ("Stadt", "City"),
    "district": ("Stadtbezirk", "District"),
    "points": ("Einrichtungen", "Facilities"),
    "layer_kita": ("Kitas", "Day-care centres"),
    "layer_grundschule": ("Grundschulen", "Primary schools"),
    "layer_weiterfuehrende_schule": ("Weiterführende Schulen", "Secondary schools"),
    "layer_familienzentrum": ("Familienzentren", "Family centres"),
    "capacity": ("Plätze", "Places"),
    "gaps_note": ("Lücken in der Linie: keine Daten oder geheim gehalten.",
                  "Gaps in a line: no data or suppressed."),
    "language": ("English", "Deutsch"),
    "login": ("Anmelden", "Sign in"),
    "logout": ("Abmelden", "Sign out"),
    "menu": ("Menü", "Menu"),
    # ---- upload checks: reading the file (atlas/ingest/tablefile.py; rendered by atlas.messages)
    "chk_file_empty": ("Die Datei ist leer; wählen Sie die Datei mit den Daten.",
                       "The file is empty; choose the file with the data."),
    "chk_format_unread": ("Dieses Format wird nicht gelesen; bitte als XLSX oder CSV speichern.",
                          "This format is not read; please save as XLSX or CSV."),
    "chk_too_many_rows": ("Die Datei hat mehr als {limit} Datenzeilen (Grenze dieses Atlas); teilen Sie sie in "
                          "mehrere Dateien auf, z. B. eine je Jahr oder Indikator.",
                          "The file has more than {limit} data rows (this atlas's limit); split it into several "
                          "files, e.g. one per year or indicator."),
    "chk_too_many_columns": ("Die Tabelle hat {found} Spalten, höchstens {limit} sind erlaubt (Grenze dieses "
                             "Atlas); teilen Sie sie auf, z. B. eine Datei je Indikator, oder liefern Sie sie im "
                             "langen Format (eine Zeile je Gebiet, Indikator und Zeitraum).",
                             "The table has {found} columns, at most {limit} are allowed (this atlas's limit); "
                             "split it, e.g. one file per indicator, or deliver it in long format (one row per "
                             "area, indicator and period)."),
    "chk_cell_too_long": ("Eine Zelle hat {found} Zeichen, höchstens {limit} sind erlaubt (Grenze dieses Atlas); "
                          "kürzen Sie den Inhalt – in eine Zelle gehört ein Schlüssel, ein Name oder eine Zahl.",
                          "A cell has {found} characters, at most {limit} are allowed (this atlas's limit); "
                          "shorten it – a cell holds a key, a name or a number."),
    "chk_utf16": ("UTF-16-Text wird nicht gelesen; bitte als 'CSV UTF-8' oder 'CSV (Trennzeichen-getrennt)' "
                  "speichern.", "UTF-16 text is not read; please save as 'CSV UTF-8' or 'CSV (comma delimited)'."),
    "chk_binary": ("Keine Textdatei (enthält Binärdaten); speichern Sie die Tabelle als CSV oder XLSX.",
                   "Not a text file (it holds binary data); save the table as CSV or XLSX."),
    "chk_encoding": ("Zeichenkodierung nicht erkannt; bitte als UTF-8 oder Windows-1252 speichern.",
                     "Character encoding not recognised; please save as UTF-8 or Windows-1252."),
    "chk_control_chars": ("Die Datei enthält Steuerzeichen; sie ist keine CSV-Tabelle. Speichern Sie die Tabelle "
                          "in Excel als 'CSV UTF-8'.",
                          "The file holds control characters; it is not a CSV table. Save the table in Excel as "
                          "'CSV UTF-8'."),
    "chk_bad_utf8": ("Ungültiges UTF-8 an Byte {byte}; speichern Sie die Datei als 'CSV UTF-8' neu.",
                     "Invalid UTF-8 at byte {byte}; save the file again as 'CSV UTF-8'."),
    "chk_not_a_table": ("Die Datei ist {kind}, keine Tabelle; erwartet: CSV oder XLSX.",
                        "The file is {kind}, not a table; expected: CSV or XLSX."),
    "chk_header_empty": ("Die erste Zeile (Spaltenköpfe) ist leer; löschen Sie die Leerzeilen über den "
                         "Spaltenköpfen.", "The first row (the column headers) is empty; delete the empty rows "
                         "above the headers."),
    "chk_one_column": ("Nur eine Spalte erkannt; erwartet: Trennzeichen Semikolon, Komma oder Tabulator.",
                       "Only one column found; expected a semicolon, comma or tab as separator."),
    "chk_field_too_long": ("CSV nicht lesbar: ein Feld hat {found} Zeichen (höchstens {limit}); prüfen Sie, ob "
                           "ein Anführungszeichen fehlt.",
                           "CSV not readable: a field has {found} characters (at most {limit}); check whether a "
                           "quotation mark is missing."),
    "chk_bom_inside": ("Byte-Order-Mark mitten in der Datei (zwei Dateien aneinandergehängt?); laden Sie die "
                       "Dateien einzeln hoch.", "Byte order mark in the middle of the file (two files joined?); "
                       "upload the files one by one."),
    "chk_field_count": ("Zeile {row} hat {found} Felder, die Kopfzeile {header}; fehlt ein Anführungszeichen oder "
                        "steht ein Trennzeichen zu viel? Prüfen Sie Zeile {row}.",
                        "Row {row} has {found} fields, the header row {header}; is a quotation mark missing or a "
                        "separator too many? Check row {row}."),
    "chk_csv_unreadable": ("CSV nicht lesbar: {reason}; speichern Sie die Tabelle in Excel als CSV neu.",
                           "CSV not readable: {reason}; save the table again from Excel as CSV."),
    "chk_zip_bomb": ("Die Arbeitsmappe entpackt sich auf {mb} MB (Verhältnis {ratio}:1) und wird abgelehnt; "
                     "speichern Sie die Tabelle als CSV.",
                     "The workbook unpacks to {mb} MB (ratio {ratio}:1) and is refused; save the table as CSV."),
    "chk_zip_not_xlsx": ("ZIP-Datei, aber keine Excel-Arbeitsmappe (xl/workbook.xml fehlt); erwartet wird eine mit "
                         "Excel gespeicherte XLSX-Datei.",
                         "A ZIP file, but not an Excel workbook (xl/workbook.xml is missing); expected an XLSX "
                         "file saved by Excel."),
    "chk_xlsx_damaged": ("Die Excel-Datei ist beschädigt oder unvollständig ({error}). Öffnen und speichern Sie "
                         "sie in Excel erneut.",
                         "The Excel file is damaged or incomplete ({error}). Open it in Excel and save it again."),
    "chk_sheet_missing": ("Tabellenblatt {sheet} nicht gefunden; vorhanden: {sheets}; wählen Sie eines davon.",
                          "Sheet {sheet} not found; the workbook has: {sheets}; choose one of them."),
    "chk_no_sheet": ("Die Arbeitsmappe hat kein Tabellenblatt; speichern Sie die Tabelle in Excel mit einem Blatt "
                     "voller Daten.", "The workbook has no sheet; save the table in Excel with a sheet of data."),
    "chk_chart_sheet": ("Das Blatt ist ein Diagramm, keine Tabelle; wählen Sie das Blatt mit den Daten (Feld "
                        "sheet).", "The sheet is a chart, not a table; choose the sheet with the data (field "
                        "sheet)."),
    "chk_formula": ("Die Zelle enthält eine Formel; bitte als Werte einfügen (Inhalte einfügen → Werte).",
                    "The cell holds a formula; please paste it as values (Paste Special → Values)."),
    "chk_sheet_empty": ("Das Tabellenblatt ist leer; wählen Sie das Blatt mit den Daten (Feld sheet).",
                        "The sheet is empty; choose the sheet with the data (field sheet)."),
    "chk_column_no_header": ("Spalte ohne Überschrift, aber mit Werten; geben Sie ihr eine Überschrift oder löschen "
                             "Sie die Werte.", "A column without a header but with values; give it a header or "
                             "delete the values."),
    "chk_header_twice": ("Überschrift doppelt (Spalten {first} und {second}); benennen Sie eine davon um.",
                         "Header twice (columns {first} and {second}); rename one of them."),
    "chk_header_only": ("Nur Spaltenköpfe, keine Datenzeilen; fügen Sie die Daten unter den Spaltenköpfen ein.",
                        "Headers only, no data rows; paste the data below the headers."),
    "chk_more_header_problems": ("… und {n} weitere Probleme mit Spaltenköpfen; beheben Sie zuerst die genannten.",
                                 "… and {n} more problems with headers; fix the ones listed first."),
    # cells (atlas/ingest/cells.py)
    "chk_bool_cell": ("Zahl erwartet, nicht WAHR/FALSCH; tragen Sie die Zahl ein",
                      "A number expected, not TRUE/FALSE; enter the number"),
    "chk_decimal_comma_file": ("Dezimaltrennzeichen passt nicht zur Datei; erwartet 1234,5 oder 1.234,5. Schreiben "
                               "Sie alle Zahlen gleich (mit Semikolon getrennte Datei: Dezimalkomma, z. B. 12,5).",
                               "The decimal separator does not fit the file; expected 1234,5 or 1.234,5. Write all "
                               "numbers alike (a file separated by semicolons: decimal comma, e.g. 12,5)."),
    "chk_decimal_point_file": ("Dezimaltrennzeichen passt nicht zur Datei; erwartet 1234.5. Schreiben Sie alle "
                               "Zahlen gleich (mit Komma getrennte Datei: Dezimalpunkt, z. B. 12.5).",
                               "The decimal separator does not fit the file; expected 1234.5. Write all numbers "
                               "alike (a file separated by commas: decimal point, e.g. 12.5)."),
    "chk_not_a_number_comma": ("keine Zahl; erwartet 1234,5 oder 1.234,5. Für geheim gehaltene Werte schreiben Sie "
                               "'.', für fehlende lassen Sie die Zelle leer.",
                               "not a number; expected 1234,5 or 1.234,5. For suppressed values write '.', for "
                               "missing ones leave the cell empty."),
    "chk_not_a_number_point": ("keine Zahl; erwartet 1234.5. Für geheim gehaltene Werte schreiben Sie '.', für "
                               "fehlende lassen Sie die Zelle leer.",
                               "not a number; expected 1234.5. For suppressed values write '.', for missing ones "
                               "leave the cell empty."),
    "chk_ambiguous_dash": ("'-' ist mehrdeutig: schreiben Sie 0 für null, lassen Sie die Zelle leer für 'keine "
                           "Daten' oder '.' für geheim",
                           "'-' is ambiguous: write 0 for zero, leave the cell empty for 'no data' or write '.' "
                           "for suppressed"),
    "chk_not_finite": ("Zahl zu groß oder unendlich (höchstens 10^15 dem Betrag nach); tragen Sie die richtige Zahl "
                       "ein oder lassen Sie die Zelle für 'keine Daten' leer",
                       "Number too large or infinite (at most 10^15 in magnitude); enter the right number or leave "
                       "the cell empty for 'no data'"),
    "chk_foreign_digits": ("Ziffern einer anderen Schrift; schreiben Sie die Zahl mit den Ziffern 0–9, z. B. 1234,5",
                           "Digits of another script; write the number with the digits 0–9, e.g. 1234"),
    # areas (atlas/ingest/areas.py)
    "chk_area_missing": ("Gebiet fehlt: weder Schlüssel noch Name. Tragen Sie den Schlüssel des Gebiets ein; Fälle "
                         "ohne Gebiet schreiben Sie als 'nicht zuzuordnen'.",
                         "Area missing: neither a key nor a name. Enter the key of the area; write cases without an area "
                         "as 'nicht zuzuordnen' (not assignable)."),
    "chk_parent_key_named_otherwise": ("Schlüssel {key} ist der Stadtbezirk {parent}; allein in einer "
                                       "Ortsteil-Tabelle steht er für dessen nicht zuordenbare Fälle, der Name "
                                       "'{name}' passt nicht dazu. Gespeichert als {stored}, denn der Schlüssel "
                                       "entscheidet; ist das falsch, korrigieren Sie den Schlüssel.",
                                       "Key {key} is the district {parent}; alone in a table of neighbourhoods it "
                                       "stands for the cases of that district that cannot be assigned, and the name "
                                       "'{name}' does not fit it. Stored as {stored}, since the key decides; if "
                                       "that is wrong, correct the key."),
    "chk_name_belongs_to": ("; der Name gehört zu {areas}", "; the name belongs to {areas}"),
    "chk_name_not_key": ("Name '{name}' passt nicht zu Schlüssel {key} ({key_name}){hint}. Gespeichert unter "
                         "{stored}, denn der Schlüssel entscheidet; ist der Schlüssel falsch, korrigieren Sie ihn und "
                         "laden Sie die Datei erneut hoch.",
                         "Name '{name}' does not fit key {key} ({key_name}){hint}. Stored under {stored}, since the "
                         "key decides; if the key is wrong, correct it and upload the file again."),
    "chk_name_ambiguous": ("Name '{name}' passt auf mehrere Gebiete ({areas}); geben Sie den Schlüssel an.",
                           "Name '{name}' fits several areas ({areas}); give the key."),
    "chk_unassigned_which_parent": ("'{name}': nicht zuzuordnende Fälle – aber welcher Stadtbezirk? Der Rest des "
                                    "Namens ist keiner. Schreiben Sie z. B. '{example_name} – nicht zuzuordnen', den "
                                    "Schlüssel des Stadtbezirks mit 99 ({example_key}99) oder nur 'nicht zuzuordnen' "
                                    "für die ganze Stadt.",
                                    "'{name}': cases that cannot be assigned – but of which district? The rest of "
                                    "the name is none. Write e.g. '{example_name} – nicht zuzuordnen', the "
                                    "key of the district with 99 ({example_key}99) or just 'nicht zuzuordnen' for the "
                                    "whole city."),
    "chk_valid_to": (", gültig bis {day}", ", valid until {day}"),
    "chk_valid_from": (", gültig ab {day}", ", valid from {day}"),
    "chk_level_note": (" (Ebene {level})", " (level {level})"),
    "chk_key_other_set": ("Schlüssel {key} gehört zum Gebietsstand {other}{valid}{level_note}; für diesen Zeitraum "
                          "gilt {set} ({label}). Prüfen Sie den Zeitraum, oder rechnen Sie die Werte auf die Gebiete "
                          "von {set} um.",
                          "Key {key} belongs to the boundaries {other}{valid}{level_note}; this period has {set} "
                          "({label}). Check the period, or convert the values to the areas of {set}."),
    "chk_key_name_elsewhere": (" Der Name '{name}' gehört zu {areas}: ist der Schlüssel falsch?",
                               " The name '{name}' belongs to {areas}: is the key wrong?"),
    "chk_unknown_key": ("unbekanntes Gebiet: Schlüssel {key} gibt es im Gebietsstand {set} ({label}) nicht.{hint} "
                        "Prüfen Sie den Schlüssel (Liste der Gebiete: /api/v1/areas); Fälle ohne Ortsteil schreiben "
                        "Sie als 'nicht zuzuordnen' oder mit dem Schlüssel des Stadtbezirks und 99.",
                        "unknown area: key {key} does not exist in the boundaries {set} ({label}).{hint} Check the "
                        "key (list of areas: /api/v1/areas); write cases without a neighbourhood as 'nicht "
                        "zuzuordnen' (not assignable) or with the key of the district and 99."),
    "chk_or_list": ("{first} oder {last}", "{first} or {last}"),
    "chk_unknown_name_close": ("unbekanntes Gebiet '{name}' im Gebietsstand {set} – meinten Sie {close}? Schreiben "
                               "Sie den Namen wie in der Gebietsliste oder geben Sie den Schlüssel an.",
                               "unknown area '{name}' in the boundaries {set} – did you mean {close}? Write the "
                               "name as in the list of areas or give the key."),
    "chk_unknown_name_other_set": ("unbekanntes Gebiet '{name}' im Gebietsstand {set}; der Name gehört zum "
                                   "Gebietsstand {other}. Prüfen Sie den Zeitraum, oder rechnen Sie die Werte auf "
                                   "die Gebiete von {set} um.",
                                   "unknown area '{name}' in the boundaries {set}; the name belongs to the "
                                   "boundaries {other}. Check the period, or convert the values to the areas of "
                                   "{set}."),
    "chk_unknown_name": ("unbekanntes Gebiet '{name}' im Gebietsstand {set}. Schreiben Sie den Namen wie in der "
                         "Gebietsliste oder geben Sie den Schlüssel an.",
                         "unknown area '{name}' in the boundaries {set}. Write the name as in the list of areas or "
                         "give the key."),
    # mapping and checks (atlas/ingest/checks.py)
    "chk_mapping_not_object": ("mapping muss ein JSON-Objekt sein, z. B. {{\"area\": \"Stadtteil-Nr\"}}",
                               "mapping must be a JSON object, e.g. {{\"area\": \"Stadtteil-Nr\"}}"),
    "chk_mapping_unknown": ("Unbekannte Felder in mapping: {unknown}; erlaubt: {allowed}; nehmen Sie nur diese",
                            "Unknown fields in mapping: {unknown}; allowed: {allowed}; use only these"),
    "chk_mapping_shape": ("mapping: {fields} hat die falsche Form; erwartet z. B. {{\"area\": \"Ortsteil\", "
                          "\"indicator_columns\": {{\"Spalte\": \"bev_u6\"}}, \"cell_columns\": {{\"Spalte\": "
                          "[\"bev_u6\", \"2024\"]}}}}",
                          "mapping: {fields} has the wrong shape; expected e.g. {{\"area\": \"Ortsteil\", "
                          "\"indicator_columns\": {{\"Column\": \"bev_u6\"}}, \"cell_columns\": {{\"Column\": "
                          "[\"bev_u6\", \"2024\"]}}}}"),
    "chk_no_such_column": ("Spalte {column} gibt es nicht; nennen Sie eine dieser Spalten: {columns}",
                           "There is no column {column}; name one of these columns: {columns}"),
    "chk_measures_shape": ("measures[{id}] braucht value und/oder numerator+denominator, z. B. "
                           "{{\"value\": \"Anzahl\"}}",
                           "measures[{id}] needs value and/or numerator+denominator, e.g. {{\"value\": \"Anzahl\"}}"),
    "chk_cell_columns_shape": ("cell_columns[{column}] braucht [Indikator-ID, Zeitraum], z. B. [\"bev_u6\", \"2024\"]",
                               "cell_columns[{column}] needs [indicator ID, period], e.g. [\"bev_u6\", \"2024\"]"),
    "chk_no_area_column": ("Keine Gebietsspalte erkannt (erwartet z. B. 'Ortsteil', 'Gebiet', 'Schlüssel' oder "
                           "'area'); bitte zuordnen, z. B. mapping {{\"area\": \"Stadtteil-Nr\"}}.",
                           "No area column found (expected e.g. 'Ortsteil', 'Gebiet', 'Schlüssel' or 'area'); "
                           "please map one, e.g. mapping {{\"area\": \"Stadtteil-Nr\"}}."),
    "chk_no_indicator_column": ("Kein Indikator erkannt (Spalte 'Indikator' oder Spalten mit Indikator-IDs); bitte "
                                "zuordnen, z. B. mapping {{\"indicator\": \"Kennziffer\"}} oder "
                                "{{\"fixed_indicator\": \"bev_u6\"}}.",
                                "No indicator found (a column 'Indikator' or columns named by indicator IDs); please "
                                "map one, e.g. mapping {{\"indicator\": \"Kennziffer\"}} or "
                                "{{\"fixed_indicator\": \"bev_u6\"}}."),
    "chk_no_period_column": ("Kein Zeitraum erkannt (Spalte 'Jahr', 'Zeitraum' oder 'Stichtag', oder Spalten je "
                             "Jahr); bitte zuordnen, z. B. mapping {{\"period\": \"Berichtsjahr\"}} oder "
                             "{{\"fixed_period\": \"2024\"}}.",
                             "No period found (a column 'Jahr', 'Zeitraum' or 'Stichtag', or a column per year); "
                             "please map one, e.g. mapping {{\"period\": \"Berichtsjahr\"}} or "
                             "{{\"fixed_period\": \"2024\"}}."),
    "chk_no_value_column": ("Keine Wertspalte erkannt (erwartet 'Wert'/'value' oder 'Zähler' und 'Nenner'); bitte "
                            "zuordnen, z. B. mapping {{\"value\": \"Anzahl\"}}.",
                            "No value column found (expected 'Wert'/'value' or 'Zähler' and 'Nenner'); please map "
                            "one, e.g. mapping {{\"value\": \"Anzahl\"}}."),
    "chk_new_not_list": ("new_indicators muss eine JSON-Liste von Indikatoren sein",
                         "new_indicators must be a JSON list of indicators"),
    "chk_new_too_many": ("new_indicators: höchstens {limit} neue Indikatoren je Lieferung, nicht {n}; teilen Sie "
                         "die Lieferung auf", "new_indicators: at most {limit} new indicators per delivery, not "
                         "{n}; split the delivery"),
    "chk_new_invalid": ("neuer Indikator {n}: {reason}", "new indicator {n}: {reason}"),
    "chk_new_exists": ("Indikator-ID {id} gibt es schon", "The indicator ID {id} exists already"),
    "chk_new_other_department": ("{id}: Sie legen nur Indikatoren Ihres Fachamts an",
                                 "{id}: you create indicators of your own department only"),
    "chk_new_public_later": ("{id}: öffentliche Sichtbarkeit gibt die Administration frei; bis dahin ist der "
                             "Indikator intern", "{id}: the administration releases public visibility; until then "
                             "the indicator is internal"),
    "chk_pw_year": ("jährlich", "yearly"),
    "chk_pw_quarter": ("vierteljährlich", "quarterly"),
    "chk_pw_month": ("monatlich", "monthly"),
    "chk_pe_quarter": ("2024-Q3 oder 30.09.2024", "2024-Q3 or 30.09.2024"),
    "chk_pe_month": ("2024-06 oder 30.06.2024", "2024-06 or 30.06.2024"),
    "chk_no_set_for_period": ("Für {period} gibt es keinen Gebietsstand (außerhalb der Gültigkeit aller "
                              "Gebietsstände); prüfen Sie den Zeitraum, oder die Administration lädt den "
                              "Gebietsstand dieser Zeit hoch",
                              "There are no boundaries for {period} (outside the validity of all boundaries); check "
                              "the period, or the administration uploads the boundaries of that time"),
    "chk_no_such_set": ("Gebietsstand {set} gibt es nicht; vorhanden: {sets}. Nennen Sie einen davon oder lassen "
                        "Sie das Feld leer (dann gilt der Gebietsstand jedes Zeitraums).",
                        "There are no boundaries {set}; the atlas has: {sets}. Name one of them or leave the field "
                        "empty (then each period's own boundaries apply)."),
    "chk_row": ("Zeile {rows}", "row {rows}"),
    "chk_rows": ("Zeilen {rows}", "rows {rows}"),
    "chk_n_rows": (" … ({n} Zeilen)", " … ({n} rows)"),
    "chk_note_total": ("{n} Summenzeile ({rows}) mit der Summe ihrer Gebiete verglichen (Abweichungen stehen bei "
                       "Fehlern oder Warnungen); sie wird nicht gespeichert, der Atlas rechnet Stadtbezirke und Stadt "
                       "selbst.", "{n} total row ({rows}) compared with the sum of its areas (differences are listed "
                       "as errors or warnings); it is not stored, the atlas computes districts and the city itself."),
    "chk_note_totals": ("{n} Summenzeilen ({rows}) mit der Summe ihrer Gebiete verglichen (Abweichungen stehen bei "
                        "Fehlern oder Warnungen); sie werden nicht gespeichert, der Atlas rechnet Stadtbezirke und "
                        "Stadt selbst.", "{n} total rows ({rows}) compared with the sum of their areas (differences "
                        "are listed as errors or warnings); they are not stored, the atlas computes districts and the "
                        "city itself."),
    "chk_note_unassigned": ("{n} Werte nicht zuordenbarer Fälle ({rows}; z. B. {example}) zählen in der Summe ihres "
                            "Stadtbezirks und der Stadt; Tabellen zeigen sie als 'nicht zuordenbar', die Karte nicht.",
                            "{n} values of cases that cannot be assigned ({rows}; e.g. {example}) count in the sum "
                            "of their district and of the city; tables show them as 'not assignable', the map does "
                            "not."),
    "chk_note_absent": ("{n} Zellen 'x' übersprungen ({rows}): das Gebiet bestand in diesem Zeitraum nicht.",
                        "{n} cells 'x' skipped ({rows}): the area did not exist in that period."),
    "chk_tolerance": ("total_tolerance muss eine Zahl ≥ 0 sein (um wie viel eine Summenzeile von der Summe der "
                      "Gebiete abweichen darf, z. B. 2); lassen Sie das Feld leer für exakte Summen",
                      "total_tolerance must be a number ≥ 0 (how far a total row may differ from the sum of its "
                      "areas, e.g. 2); leave the field empty for exact sums"),
    "chk_period_missing": ("Zeitraum fehlt; tragen Sie z. B. 2024, 2024-Q3 oder den Stichtag 30.09.2024 ein",
                           "The period is missing; enter e.g. 2024, 2024-Q3 or the reference day 30.09.2024"),
    "chk_day_not_periodicity": ("Stichtag/Zeitraum passt nicht zur Periodizität von {title} ({id}, {word}); "
                                "schreiben Sie z. B. {example}",
                                "The reference day or period does not fit the periodicity of {title} ({id}, "
                                "{word}); write e.g. {example}"),
    "chk_day_not_end": ("Stichtag ist kein Monats-, Quartals- oder Jahresende; schreiben Sie den letzten Tag des "
                        "Zeitraums, z. B. 30.09.2024",
                        "The reference day is not the end of a month, quarter or year; write the last day of the "
                        "period, e.g. 30.09.2024"),
    "chk_period_unreadable": ("Zeitraum nicht lesbar; schreiben Sie 2024, 2024-Q3, Q3/2024 oder den Stichtag "
                              "30.09.2024", "The period cannot be read; write 2024, 2024-Q3, Q3/2024 or the "
                              "reference day 30.09.2024"),
    "chk_period_not_periodicity": ("Zeitraum {period} passt nicht zur Periodizität von {title} ({id}, {word}); "
                                   "schreiben Sie z. B. {example}",
                                   "The period {period} does not fit the periodicity of {title} ({id}, {word}); "
                                   "write e.g. {example}"),
    "chk_indicator_missing": ("Indikator fehlt; tragen Sie die Indikator-ID ein (z. B. aus /api/v1/indicators)",
                              "The indicator is missing; enter the indicator ID (e.g. from /api/v1/indicators)"),
    "chk_other_department": ("Indikator gehört dem Fachamt '{department}'; Sie dürfen nur Indikatoren Ihres "
                             "Fachamts liefern – nehmen Sie die Zeilen heraus oder bitten Sie das Fachamt "
                             "'{department}', sie zu liefern",
                             "The indicator belongs to the department '{department}'; you may deliver the "
                             "indicators of your own department only – take the rows out or ask the department "
                             "'{department}' to deliver them"),
    "chk_id_title": ("'{id}' ({title})", "'{id}' ({title})"),
    "chk_unknown_indicator": ("unbekannter Indikator. Nehmen Sie eine Indikator-ID Ihres Fachamts (Liste: "
                              "/api/v1/indicators) oder legen Sie einen neuen Indikator mit der Lieferung an.",
                              "unknown indicator. Take an indicator ID of your department (list: "
                              "/api/v1/indicators) or create a new indicator with the delivery."),
    "chk_unknown_indicator_close": ("unbekannter Indikator – meinten Sie {close}? Nehmen Sie eine Indikator-ID Ihres "
                                    "Fachamts (Liste: /api/v1/indicators) oder legen Sie einen neuen Indikator mit "
                                    "der Lieferung an.",
                                    "unknown indicator – did you mean {close}? Take an indicator ID of your "
                                    "department (list: /api/v1/indicators) or create a new indicator with the "
                                    "delivery."),
    "chk_negative_count": ("negative Anzahl; erwartet ≥ 0 – prüfen Sie das Vorzeichen",
                           "a negative count; expected ≥ 0 – check the sign"),
    "chk_denominator_zero": ("Nenner ist 0; ein Anteil braucht einen Nenner über 0 – lassen Sie Zähler und Nenner "
                             "leer, wenn es keine Daten gibt",
                             "The denominator is 0; a share needs a denominator above 0 – leave numerator and "
                             "denominator empty when there are no data"),
    "chk_value_not_counts": ("Wert passt nicht zu Zähler/Nenner: {num} / {den} × {scale} = {derived}; korrigieren "
                             "Sie Wert oder Zähler und Nenner, oder lassen Sie den Wert leer (er wird aus Zähler und "
                             "Nenner berechnet)",
                             "The value does not fit numerator/denominator: {num} / {den} × {scale} = {derived}; "
                             "correct the value or numerator and denominator, or leave the value empty (it is "
                             "computed from them)"),
    "chk_num_above_den": ("Zähler ({num}) größer als Nenner ({den}); sind die Spalten vertauscht? Prüfen Sie Zähler "
                          "und Nenner.", "The numerator ({num}) is larger than the denominator ({den}); are the "
                          "columns swapped? Check numerator and denominator."),
    "chk_percent_range": ("Prozentwert außerhalb 0–100; geben Sie Prozent an (12,5 für 12,5 %), nicht den Bruch "
                          "oder eine Anzahl", "A percentage outside 0–100; give per cent (12.5 for 12.5 %), not the "
                          "fraction or a count"),
    "chk_outside_organisation": ("{area} liegt außerhalb von {org} ({home}); für „{title}“ liefern Sie nur Werte "
                                 "Ihrer eigenen Gebiete. Löschen Sie die Zeile; Werte anderer Gemeinden liefern diese "
                                 "selbst oder die Statistikstelle des Kreises.",
                                 "{area} lies outside {org} ({home}); for “{title}” you deliver values of your own "
                                 "areas only. Delete the row; other municipalities deliver their values themselves, "
                                 "or the county's statistics office does."),
    "chk_duplicate": ("doppelte Zeile: {indicator}, {area}, {period} steht in den Zeilen {rows}{more}; löschen Sie "
                      "alle bis auf eine", "a doubled row: {indicator}, {area}, {period} is in rows {rows}{more}; "
                      "delete all but one"),
    "chk_more_duplicates": ("… und {n} weitere doppelt gelieferte Zellen; löschen Sie die doppelten Zeilen (in "
                            "Excel: Daten → Duplikate entfernen)",
                            "… and {n} more cells delivered twice; delete the doubled rows (in Excel: Data → "
                            "Remove Duplicates)"),
    "chk_deadline": ("Die Prüfung dauerte länger als {seconds} Sekunden (Grenze dieses Atlas) und wurde "
                     "abgebrochen; teilen Sie die Datei auf, z. B. eine je Jahr oder Indikator, und laden Sie die "
                     "Teile einzeln hoch.",
                     "The check took longer than {seconds} seconds (this atlas's limit) and was stopped; split the "
                     "file, e.g. one per year or indicator, and upload the parts one by one."),
    "chk_with_rows": ("{message} ({rows})", "{message} ({rows})"),
    "chk_where": ("{indicator}, {period}", "{indicator}, {period}"),
    "chk_total_twice": ("{where}: Summenzeile '{text}' steht doppelt (Zeilen {first} und {second}); löschen Sie eine",
                        "{where}: the total row '{text}' is there twice (rows {first} and {second}); delete one"),
    "chk_with_unassigned": (" (mit den nicht zuordenbaren Fällen)", " (with the cases that cannot be assigned)"),
    "chk_parts_city": ("Ortsteile{unassigned}", "neighbourhoods{unassigned}"),
    "chk_parts_parent": ("Ortsteile von {parent}{unassigned}", "neighbourhoods of {parent}{unassigned}"),
    "chk_q_value": ("Wert", "value"),
    "chk_q_numerator": ("Zähler", "numerator"),
    "chk_q_denominator": ("Nenner", "denominator"),
    "chk_total_differs": ("{where}: die {parts} ergeben {what} {computed}, die Summenzeile '{text}' nennt {stated} "
                          "(Differenz {difference}). Prüfen Sie fehlende, doppelte oder falsch zugeordnete Zeilen; "
                          "sind die Summen gerundet veröffentlicht, geben Sie die Rundungstoleranz an "
                          "(total_tolerance).",
                          "{where}: the {parts} add up to {what} {computed}, the total row '{text}' says {stated} "
                          "(difference {difference}). Check for missing, doubled or wrongly assigned rows; if the "
                          "totals are published rounded, give the rounding tolerance (total_tolerance)."),
    "chk_total_exceeded": ("{where}: schon die {parts} mit Werten ergeben {what} {computed}, mehr als die "
                           "Summenzeile '{text}' ({stated}). Prüfen Sie doppelte oder falsch zugeordnete Zeilen.",
                           "{where}: the {parts} with values alone add up to {what} {computed}, more than the total "
                           "row '{text}' ({stated}). Check for doubled or wrongly assigned rows."),
    "chk_absent_parts": (" ({n} Ortsteile fehlen in der Lieferung)", " ({n} neighbourhoods are missing from the "
                         "delivery)"),
    "chk_total_rate": ("{where}: die Quote über die {parts} ergibt {computed}{absent}, die Summenzeile '{text}' nennt "
                       "{stated}. Prüfen Sie Zähler und Nenner der Zeilen; stimmen sie, ist die Quote der "
                       "Summenzeile anders berechnet.",
                       "{where}: the rate over the {parts} is {computed}{absent}, the total row '{text}' says "
                       "{stated}. Check numerators and denominators of the rows; if they are right, the rate of "
                       "the total row is computed differently."),
    "chk_areas_absent": ("{indicator}, {period}: {n} Ortsteile fehlen in der Lieferung ({areas}). Liefern Sie sie "
                         "nach, wenn es Werte gibt; sonst zeigt der Atlas dort 'keine Daten'.",
                         "{indicator}, {period}: {n} neighbourhoods are missing from the delivery ({areas}). Deliver "
                         "them later if there are values; otherwise the atlas shows 'no data' there."),
    "chk_outlier": ("{indicator}, {area}, {period}: Ausreißer {value} (Median {median}). Prüfen Sie den Wert; stimmt "
                    "er, können Sie die Warnung übergehen.",
                    "{indicator}, {area}, {period}: outlier {value} (median {median}). Check the value; if it is "
                    "right, you may pass over the warning."),
    "chk_jump": ("{indicator}, {area}: {old} ({before}) → {value} ({period}), Änderung {change} %. Prüfen Sie den "
                 "Wert; stimmt er, können Sie die Warnung übergehen.",
                 "{indicator}, {area}: {old} ({before}) → {value} ({period}), change {change} %. Check the value; "
                 "if it is right, you may pass over the warning."),
    "chk_file_name": ("Der Dateiname enthält Pfadangaben oder Steuerzeichen und wird abgelehnt; benennen Sie die "
                      "Datei um (nur Buchstaben, Ziffern, - und _).",
                      "The file name holds a path or control characters and is refused; rename the file (letters, "
                      "digits, - and _ only)."),
    "chk_no_such_column_again": ("Spalte {column} gibt es auch nicht; nennen Sie eine der oben genannten Spalten "
                                 "der Datei", "There is no column {column} either; name one of the file's columns "
                                 "listed above"),
    # pending uploads (atlas/ingest/uploads.py)
    "chk_interrupted": ("Die Prüfung wurde unterbrochen (der Server wurde neu gestartet). Nichts wurde gespeichert; "
                        "bitte laden Sie die Datei erneut hoch.",
                        "The check was interrupted (the server was restarted). Nothing was stored; please upload "
                        "the file again."),
    "chk_check_failed": ("Die Prüfung ist mit einem internen Fehler abgebrochen. Nichts wurde gespeichert; bitte "
                         "laden Sie die Datei erneut hoch, und wenden Sie sich an die Administration, wenn es wieder "
                         "geschieht.", "The check stopped with an internal error. Nothing was stored; please upload "
                         "the file again, and contact the administration if it happens again."),
    "chk_disk_full": ("Auf dem Server war kein Speicherplatz frei; die Datei wurde nicht aufbewahrt. Bitte später "
                      "erneut hochladen.", "The server's disk was full; the file was not kept. Please upload it "
                      "again later."),
    "chk_busy": ("Gerade werden zu viele Dateien geprüft; bitte versuchen Sie es in einer Minute erneut.",
                 "Too many files are being checked; please try again in a minute."),
    "chk_unassigned_area": ("{owner} – nicht zuordenbar ({id})", "{owner} – not assignable ({id})"),
    # boundary and grid uploads (atlas/ingest/boundary_upload.py, grid_upload.py)
    "chk_b_format": ("Das Format {suffix} wird nicht gelesen; erwartet GeoJSON, GeoPackage oder ein ZIP mit Shapefile "
                     "(.shp, .shx, .dbf, .prj)", "The format {suffix} is not read; expected GeoJSON, GeoPackage or a "
                     "ZIP with a Shapefile (.shp, .shx, .dbf, .prj)"),
    "chk_b_unreadable": ("Die Geodatei ist nicht lesbar: {reason}", "The geodata file cannot be read: {reason}"),
    "chk_b_no_crs": ("Die Datei nennt kein Koordinatensystem (beim Shapefile fehlt die .prj-Datei)",
                     "The file names no coordinate system (for a Shapefile: the .prj file is missing)"),
    "chk_b_no_areas": ("Die Datei enthält keine Flächen", "The file holds no areas"),
    "chk_b_overlap": ("{a} und {b} überlappen sich auf {m2} m²", "{a} and {b} overlap on {m2} m²"),
    "chk_b_gap": ("Lücke von {m2} m² innerhalb der Stadtgrenze bei {lat}N {lon}E",
                  "A gap of {m2} m² inside the city boundary at {lat}N {lon}E"),
    "chk_b_keys": ("Schlüssel", "Keys"),
    "chk_b_level_keys": ("{level}-Schlüssel", "{level} keys"),
    "chk_b_too_long_one": ("{what} {keys} ist länger als die angegebene Länge {target}; prüfen Sie key_length oder "
                           "die Schlüsselspalte", "{what} {keys} is longer than the given length {target}; check "
                           "key_length or the key column"),
    "chk_b_too_long": ("{what} {keys} sind länger als die angegebene Länge {target}; prüfen Sie key_length oder die "
                       "Schlüsselspalte", "{what} {keys} are longer than the given length {target}; check key_length "
                       "or the key column"),
    "chk_b_lengths": ("{what} haben verschiedene Längen ({shortest} bis {target} Zeichen); bei {keys} lassen sich "
                      "keine führenden Nullen ergänzen, weil sie nicht nur aus Ziffern bestehen. Geben Sie die "
                      "Schlüssel in einheitlicher Länge an.",
                      "{what} have different lengths ({shortest} to {target} characters); {keys} cannot get leading "
                      "zeros back since they are not digits only. Give the keys in one length."),
    "chk_b_zero_clash": ("{what} {key} wird mit führenden Nullen zu {padded}, den es in der Datei schon gibt; die "
                         "Spalte mischt Schlüssel mit und ohne führende Nullen. Speichern Sie die Schlüsselspalte als "
                         "Text und laden Sie die Datei erneut hoch.",
                         "{what} {key} becomes {padded} with leading zeros, which the file has already; the column "
                         "mixes keys with and without leading zeros. Save the key column as text and upload the file "
                         "again."),
    "chk_b_zeros_added": ("{what}: führende Nullen ergänzt auf {target} Stellen bei {n} von {total} Schlüsseln "
                          "(z. B. {first} → {padded}); die Spalte war als Zahl gespeichert (Excel oder ein GIS-Join "
                          "entfernt die Nullen).",
                          "{what}: leading zeros added to {target} digits for {n} of {total} keys (e.g. {first} → "
                          "{padded}); the column was stored as a number (Excel or a GIS join drops the zeros)."),
    "chk_b_column_missing": ("Spalte {column} nicht gefunden; vorhanden: {columns}",
                             "Column {column} not found; the file has: {columns}"),
    "chk_b_parent_rule": ("Zuordnung der Ebene {level} zur Ebene darüber fehlt: parent_col oder parent_key_length "
                          "angeben (oder in der Gebietshierarchie des Atlas festlegen)",
                          "How the level {level} belongs to the level above is missing: give parent_col or "
                          "parent_key_length (or set it in the atlas's hierarchy of levels)"),
    "chk_b_unknown_level": ("Ebene {level} gibt es in der Gebietshierarchie nicht; vorhanden: {levels}",
                            "There is no level {level} in the hierarchy; the atlas has: {levels}"),
    "chk_b_level_file_missing": ("Für die Ebene {level} ({id}) fehlt eine Datei",
                                 "The file for the level {level} ({id}) is missing"),
    "chk_b_in_level": ("{level}: {message}", "{level} – {message}"),
    "chk_b_parent_missing": ("{child} {id} ({name}): {parent} {home} gibt es in dessen Datei nicht",
                             "{child} {id} ({name}): there is no {parent} {home} in its file"),
    "chk_b_not_inside": ("{child} {id} ({name}) liegt nur zu {share} in {parent} {home}; jedes Gebiet muss in seinem "
                         "übergeordneten liegen (Toleranz {tolerance}). Prüfen Sie, ob beide Dateien denselben "
                         "Gebietsstand zeigen.",
                         "{child} {id} ({name}) lies only {share} inside {parent} {home}; every area must lie in the "
                         "one above it (tolerance {tolerance}). Check that both files show the same boundaries."),
    "chk_b_nested_spatial": ("{n} {children} ihren {parents} über die Lage zugeordnet; jedes liegt zu mindestens "
                             "{least} darin", "{n} {children} assigned to their {parents} by location; each lies at "
                             "least {least} inside"),
    "chk_b_nested_column": ("{n} {children} ihren {parents} aus der Spalte zugeordnet; jedes liegt zu mindestens "
                            "{least} darin", "{n} {children} assigned to their {parents} from the column; each lies "
                            "at least {least} inside"),
    "chk_b_two_parents": ("{level} {area} liegt laut Datei in mehreren Gebieten der Ebene {upper} ({parents}); jedes "
                          "Gebiet gehört zu genau einem übergeordneten",
                          "{level} {area} lies in several areas of the level {upper} by the file ({parents}); every "
                          "area belongs to exactly one above it"),
    "chk_b_unnamed_parents": ("Stadtbezirk-Schlüssel {keys} stehen nicht in parent_names ({names}). Haben die "
                              "Schlüssel führende Nullen verloren, geben Sie key_length an (die Länge der "
                              "Schlüssel); sonst ergänzen Sie parent_names oder prüfen Sie parent_key_length.",
                              "District keys {keys} are not in parent_names ({names}). If the keys lost their "
                              "leading zeros, give key_length (the length of the keys); else add to parent_names or "
                              "check parent_key_length."),
    "chk_b_empty_key": ("Fläche {row} ({name}): Schlüssel fehlt", "Feature {row} ({name}): empty key"),
    "chk_b_no_geometry": ("Fläche {row} ({key} {name}): keine Geometrie", "Feature {row} ({key} {name}): no geometry"),
    "chk_b_invalid_geometry": ("Fläche {row} ({key} {name}): ungültige Geometrie ({reason}); reparieren Sie sie, "
                               "etwa in QGIS mit „Geometrien reparieren“",
                               "Feature {row} ({key} {name}): invalid geometry ({reason}); repair it, e.g. with "
                               "QGIS's “Fix geometries”"),
    "chk_b_not_polygon": ("Fläche {row} ({key} {name}): erwartet ein Polygon, gefunden {kind}",
                          "Feature {row} ({key} {name}): expected a polygon, got {kind}"),
    "chk_b_feature_at": ("Fläche {row} „{name}“ bei {lat}N {lon}E", "feature {row} '{name}' at {lat}N {lon}E"),
    "chk_b_duplicate_key": ("Schlüssel {key} kommt {n}-mal vor: {where}; jeder Schlüssel darf nur einmal vorkommen",
                            "Key {key} appears {n} times: {where}; each key may appear only once"),
    "shr_owner_only": ("Teilen kann nur die Organisation, der der Indikator gehört",
                       "Only the organisation that owns the indicator can share it"),
    "shr_not_restricted": ("{id} ist {visibility}, nicht eingeschränkt; Teilen gilt nur für eingeschränkte "
                           "Indikatoren", "{id} is {visibility}, not restricted; only restricted indicators "
                           "are shared"),
    "shr_configured": ("{id} ist in layers/*.toml definiert; tragen Sie dort shared_with ein",
                       "{id} is defined in layers/*.toml; set shared_with there"),
    "shr_bad_list": ("'with' muss eine Liste von Organisationskennungen sein",
                     "'with' must be a list of organisation keys"),
    "shr_unknown": ("unbekannte Organisation(en) {unknown}; bekannt: {known}",
                    "unknown organisation(s) {unknown}; known: {known}"),
    "api_indicator_not_found": ("Indikator nicht gefunden", "Indicator not found"),
    "api_not_found": ("Nicht gefunden", "Not found"),
    "api_missing_q": ("q=TEXT fehlt; geben Sie einen Suchtext an", "q=TEXT is required; give a search text"),
    "api_bad_q": ("q: höchstens {limit} Zeichen", "q: at most {limit} characters"),
    "api_missing_area": ("area=KEY fehlt; geben Sie den Schlüssel eines Gebiets an",
                         "area=KEY is required; give an area's key"),
    "api_area_not_found": ("Gebiet nicht gefunden", "Area not found"),
    "api_bad_format": ("format: eines von {allowed}", "format: one of {allowed}"),
    "api_report_not_found": ("Bericht nicht gefunden", "Report not found"),
    "api_bad_change_periods": ("from/to: zwei Zeiträume des Indikators angeben",
                               "from/to: give two periods of the indicator"),
    "api_no_data": ("Keine Werte für diese Auswahl", "No values for this selection"),
    "api_bad_method": ("method: range oder zscore", "method: range or zscore"),
    "api_grid_not_found": ("Raster nicht gefunden", "Grid not found"),
    "api_sign_in": ("Anmeldung erforderlich: melden Sie sich an oder senden Sie ein Bearer-Token",
                    "Sign in or send a bearer token"),
    "api_writers_only": ("Nur Datenpflege und Administration laden Daten hoch", "Stewards and admins only"),
    "api_boundary_file_missing": ("Feld 'file' fehlt (oder je Ebene ein Feld 'file_<ebene>'); hängen Sie die "
                                  "Geodatei an", "The field 'file' is missing (or one field 'file_<level>' per "
                                  "level); attach the geodata file"),
    "api_grid_file_missing": ("Feld 'file' fehlt (die Geodatei des Rasters); hängen Sie sie an",
                              "The field 'file' is missing (the grid's geodata file); attach it"),
    "api_valid_from": ("valid_from als Datum JJJJ-MM-TT angeben, z. B. 2027-01-01",
                       "Give valid_from as a date YYYY-MM-DD, e.g. 2027-01-01"),
    "api_upload_file_missing": ("Feld 'file' fehlt (multipart/form-data); hängen Sie die Datei an",
                                "The field 'file' is missing (multipart/form-data); attach the file"),
    "api_bad_date": ("Datum als JJJJ-MM-TT angeben, z. B. 2026-03-31", "Give the date as YYYY-MM-DD, e.g. 2026-03-31"),
    "api_admins_boundaries": ("Nur die Administration lädt Gebietsgrenzen hoch", "Only admins upload boundaries"),
    "api_admins_grids": ("Nur die Administration legt Planungsraster an", "Only admins add planning grids"),
    "api_too_deep": ("Der JSON-Inhalt ist zu tief verschachtelt; senden Sie ein flaches JSON-Objekt, z. B. "
                     '{{"to": "internal"}}', 'The JSON is nested too deeply; send a flat JSON object, e.g. '
                     '{{"to": "internal"}}'),
    "api_bad_callback": ("Ungültige Anfrage an die Oberfläche; laden Sie die Seite neu",
                         "Malformed request from the page; reload the page"),
    "api_disk_full": ("Auf dem Server ist kein Speicherplatz mehr frei; es wurde nichts gespeichert. Bitte die "
                      "Administration informieren und es danach erneut versuchen.",
                      "The server's disk is full; nothing was stored. Tell the administrator and try again "
                      "afterwards."),
    "api_bad_period": ("period: 2024, 2024-Q3 oder 2024-06", "period: 2024, 2024-Q3 or 2024-06"),
    "api_compare_areas": ("area=KEY: 1 bis 6 bekannte Gebiete angeben", "area=KEY: give 1 to 6 known area keys"),
    "api_bad_tolerance": ("tolerance: eine Zahl ≥ 0", "tolerance: a number ≥ 0"),
    "cw_outside_parent": ("Basisgebiet {base}: keine Fläche des Rasters liegt in seinem übergeordneten Gebiet "
                          "{parent}", "Base area {base}: no area of the grid lies in its parent area {parent}"),
    "cw_encoding": ("Die Datei ist nicht UTF-8-kodiert; speichern Sie sie als CSV UTF-8",
                    "The file is not UTF-8 encoded; save it as CSV UTF-8"),
    "cw_unreadable": ("Die CSV-Datei ist nicht lesbar (Semikolon als Trenner): {reason}",
                      "The CSV file cannot be read (semicolon as separator): {reason}"),
    "cw_columns": ("Zeile 1: Spalte(n) {columns} fehlen; erwartet grid_area;base_area;weight",
                   "Row 1: column(s) {columns} missing; expected grid_area;base_area;weight"),
    "cw_unknown_grid_area": ("Zeile {row}, Spalte grid_area: {value} ist keine Fläche des Rasters",
                             "Row {row}, column grid_area: {value} is not an area of the grid"),
    "cw_unknown_base_area": ("Zeile {row}, Spalte base_area: {value} ist kein Basisgebiet des Gebietsstands",
                             "Row {row}, column base_area: {value} is not a base area of the boundary set"),
    "cw_weight": ("Zeile {row}, Spalte weight: {value} ist kein Anteil zwischen 0 und 1",
                  "Row {row}, column weight: {value} is not a share between 0 and 1"),
    "cw_weight_sum": ("Zeilen {rows}, Spalte weight: die Gewichte von {base} ergeben {total} statt 1 "
                      "(Toleranz {tolerance})", "Rows {rows}, column weight: the weights of {base} add up to "
                      "{total}, not 1 (tolerance {tolerance})"),
    "cw_duplicate": ("Zeilen {rows}, Spalten grid_area/base_area: {grid} – {base} mehrfach",
                     "Rows {rows}, columns grid_area/base_area: {grid} – {base} more than once"),
    "cw_grid_id": ("Kennung {id} ungültig (a-z, 0-9, _; beginnt mit einem Buchstaben)",
                   "Identifier {id} is not valid (a-z, 0-9, _; starting with a letter)"),
    "cw_method": ("Methode {method} unbekannt; erlaubt: {allowed}", "Unknown method {method}; allowed: {allowed}"),
    "cw_is_level": ("{id} ist schon eine Ebene der Hierarchie", "{id} is already a level of the hierarchy"),
    "cat_ctx": ("{where}: Indikator {id}", "{where}: indicator {id}"),
    "cat_unknown_keys": ("{ctx}: unbekannte Angabe(n) {keys}", "{ctx}: unknown key(s) {keys}"),
    "cat_missing_keys": ("{ctx}: Pflichtangabe(n) {keys} fehlen", "{ctx}: missing required key(s) {keys}"),
    "cat_id": ("{ctx}: die Kennung muss dem Muster {pattern} folgen (Kleinbuchstaben, Ziffern, _)",
               "{ctx}: id must match {pattern} (lower-case letters, digits, _)"),
    "cat_one_of": ("{ctx}: {key} = {value}; erlaubt ist eines von: {allowed}",
                   "{ctx}: {key} = {value}, expected one of: {allowed}"),
    "cat_ratio": ("{ctx}: eine Quote braucht Zähler, Nenner und Faktor (numerator, denominator, scale)",
                  "{ctx}: a ratio needs numerator, denominator and scale"),
    "cat_threshold": ("{ctx}: {key} = {value}; erwartet eine ganze Zahl von 0 bis 1.000.000",
                      "{ctx}: {key} = {value}, expected a whole number from 0 to 1,000,000"),
    "cat_same_count_as": ("{ctx}: same_count_as muss eine Liste von Indikator-Kennungen sein",
                          "{ctx}: same_count_as must be a list of indicator ids"),
    "cat_shared_with": ("{ctx}: shared_with muss eine Liste von Organisationsschlüsseln sein",
                        "{ctx}: shared_with must be a list of organisation keys"),
    "cat_text": ("{ctx}: {key} muss Text mit höchstens {limit} Zeichen sein; geben Sie ihn so an",
                 "{ctx}: {key} must be text of at most {limit} characters; give it so"),
    "cat_decimals": ("{ctx}: decimals = {value}; geben Sie die Nachkommastellen als ganze Zahl von 0 bis {limit} an",
                     "{ctx}: decimals = {value}; give the decimals as a whole number from 0 to {limit}"),
    "cat_scale": ("{ctx}: scale = {value}; geben Sie den Faktor als Zahl über 0 bis {limit} an, z. B. 100 für Prozent",
                  "{ctx}: scale = {value}; give the factor as a number above 0 up to {limit}, e.g. 100 for "
                  "percent"),
    "cat_diverging": ("{ctx}: diverging muss true oder false sein; geben Sie es so an",
                      "{ctx}: diverging must be true or false; give it so"),
    "cat_not_object": ("Ein neuer Indikator muss ein JSON-Objekt mit seinen Metadaten sein",
                       "A new indicator must be a JSON object with its metadata"),
    "cat_domain": ("Indikator {id}: Themenfeld {value} gibt es nicht; erlaubt: {allowed}",
                   "Indicator {id}: domain {value}, expected one of: {allowed}"),
    "cat_recipe": ("Indikator {id}: ein Rezept setzt der Index-Baukasten, nicht ein Upload",
                   "Indicator {id}: a recipe is set by the index builder, not an upload"),
    "cat_sharing": ("Indikator {id}: die Freigabe für andere setzt die Eigentümerin nach dem Upload "
                    "(POST /api/v1/indicators/<id>/sharing), nicht mit ihm",
                    "Indicator {id}: sharing is set by the owner after the upload "
                    "(POST /api/v1/indicators/<id>/sharing), not with it"),
    "cat_department": ("Indikator {id}: Fachbereich {value} gibt es nicht; erlaubt: {allowed}",
                       "Indicator {id}: department {value}, expected one of: {allowed}"),
    "chk_g_parent_from": ("parent_from {value}: erwartet 'prefix:<n>' oder 'column:<Spalte>'",
                          "parent_from {value}: expected 'prefix:<n>' or 'column:<column>'"),
    "chk_g_no_set": ("Gebietsstand {set} gibt es nicht", "There are no boundaries {set}"),
    "chk_g_nests_in": ("nests_in {value} ist keine Ebene oberhalb der Basisebene",
                       "nests_in {value} is no level above the base level"),
    "chk_g_points_encoding": ("Punkte: die Datei ist nicht UTF-8-kodiert", "Points: the file is not UTF-8 encoded"),
    "chk_g_points_columns": ("Punkte, Zeile 1: Spalte(n) {columns} fehlen; erwartet lon;lat;count",
                             "Points, row 1: column(s) {columns} missing; expected lon;lat;count"),
    "chk_g_points_number": ("Punkte, Zeile {row}, Spalte {column}: {value} ist keine Zahl von {low} bis {high}",
                            "Points, row {row}, column {column}: {value} is not a number from {low} to {high}"),
    "chk_not_confirmable": ("Upload ist im Zustand '{state}' und kann nicht bestätigt werden",
                            "The upload is in the state '{state}' and cannot be confirmed"),
    "chk_not_confirmable_errors": ("Upload ist im Zustand '{state}' und hat Fehler; er kann nicht bestätigt werden",
                                   "The upload is in the state '{state}' and has errors; it cannot be confirmed"),
    "chk_no_right_for": ("keine Berechtigung für {id}", "no right to deliver {id}"),
    "chk_already_stored": ("Upload ist schon gespeichert; bestätigen Sie ihn erneut, um ihn abzuschließen",
                           "The upload is stored already; confirm it again to complete it"),
    # ---- end of the upload checks
    # ---- staff pages in both languages: upload, releases, admin, their shared pieces (issue 16)
    "js_failed_http": ("Hochladen fehlgeschlagen (HTTP {status}).", "Upload failed (HTTP {status})."),
    "js_boundaries_saved": ("Gespeichert: Gebietsstand {set} ab {from}, {areas} Gebiete in "
                            "{districts} Stadtbezirken.",
                            "Saved: boundaries {set} from {from}, {areas} areas in {districts} "
                            "districts."),
    "js_stage_queued": ("wartet", "waiting"),
    "js_stage_read": ("Datei lesen", "reading the file"),
    "js_stage_cells": ("Zellen lesen", "reading cells"),
    "js_stage_rows": ("Zeilen prüfen", "checking rows"),
    "js_stage_compare": ("mit dem Bestand vergleichen", "comparing with the stored values"),
    "js_stage_saving": ("Bericht speichern", "saving the report"),
    "js_checked_ok": ("Geprüft: keine Fehler.", "Checked: no errors."),
    "js_checked_errors": ("Geprüft: bitte den Prüfbericht ansehen.", "Checked: please look at the check report."),
    "js_checking": ("Prüfung läuft: {stage} ({share} %) …", "Checking: {stage} ({share} %) …"),
    "js_connection_lost": ("Verbindung unterbrochen; die Prüfung läuft auf dem Server weiter …",
                           "Connection lost; the check goes on on the server …"),
    "js_too_large": ("Die Datei ist größer als {mb} MB und wird nicht hochgeladen.",
                     "The file is larger than {mb} MB and is not uploaded."),
    "js_uploaded": ("Hochgeladen; die Prüfung läuft …", "Uploaded; the check is running …"),
    "js_no_connection": ("Hochladen fehlgeschlagen: keine Verbindung.", "Upload failed: no connection."),
    "js_sending": ("Wird hochgeladen und geprüft …", "Uploading and checking …"),
    "js_pick_again": ("Bitte die Datei erneut wählen.", "Please choose the file again."),
    "js_rechecking": ("Wird mit der Zuordnung erneut geprüft …", "Checking again with the mapping …"),
    "adm_tk_bad_date": ("Ablaufdatum als Datum angeben, z. B. 2027-03-31",
                        "Give the expiry as a date, e.g. 2027-03-31"),
    "adm_pick_account": ("Bitte zuerst ein Konto wählen.", "Please choose an account first."),
    "adm_no_user": ("Kein Konto {name}.", "No account {name}."),
    "adm_tk_pick_account": ("Bitte zuerst das Konto wählen, für das der Token gilt.",
                            "Please first choose the account the token is for."),
    "adm_meta_saved": ("Gespeichert: Metadaten-Version {n} ({fields}).", "Saved: metadata version {n} ({fields})."),
    "adm_nothing": ("Nichts geändert.", "Nothing changed."),
    "adm_not_saved": ("Nicht gespeichert: {exc}", "Not saved: {exc}"),
    "adm_tk_made": ("Token {id} für {user} erstellt. Kopieren Sie ihn jetzt: er wird nur dieses eine "
                    "Mal angezeigt.",
                    "Token {id} for {user} created. Copy it now: it is shown only this once."),
    "adm_tk_new": ("Neuer Token", "New token"),
    "adm_tk_revoked_msg": ("Token {id} widerrufen; er wird ab sofort abgelehnt.",
                           "Token {id} revoked; it is refused from now on."),
    "adm_now_public": ("{id} ist jetzt öffentlich sichtbar (sobald Versionen öffentlich sind).",
                       "{id} is now publicly visible (once versions are public)."),
    # why auth refused an account or token change (auth/users.py, auth/tokens.py say it in English)
    "adm_ue_password": ("Das Passwort braucht mindestens {n} Zeichen.", "The password needs at least {n} characters."),
    "adm_ue_role": ("Unbekannte Rolle {role}; möglich sind {roles}.", "Unknown role {role}; possible: {roles}."),
    "adm_ue_departments": ("Unbekannte Fachämter {unknown}; bekannt sind {known}.",
                           "Unknown departments {unknown}; known: {known}."),
    "adm_ue_steward_department": ("Ein Konto der Datenpflege braucht mindestens ein Fachamt.",
                                  "A steward needs at least one department."),
    "adm_ue_username": ("Kontonamen haben 2 bis 64 Zeichen: a–z, 0–9, '.', '_' oder '-', am Anfang ein Buchstabe "
                        "oder eine Ziffer.", "Account names have 2 to 64 characters: a–z, 0–9, '.', '_' or '-', "
                        "starting with a letter or digit."),
    "adm_ue_exists": ("Das Konto {name} gibt es schon.", "The account {name} exists already."),
    "adm_ue_no_active_account": ("Kein aktives Konto {name}.", "No active account {name}."),
    "adm_ue_expiry_past": ("Das Ablaufdatum liegt in der Vergangenheit.", "The expiry lies in the past."),
    "adm_ue_partner_scope": ("Ein Partnerzugang nennt mindestens einen Indikator oder ein Thema und eine Ebene.",
                             "A partner token names at least one indicator or domain and one level."),
    "adm_ue_partner_expiry": ("Ein Partnerzugang braucht ein Ablaufdatum.", "A partner token needs an expiry date."),
    "adm_ue_no_token": ("Kein aktiver Token {id}.", "No active token {id}."),
    "up_noted": ("Vorgemerkt: {ids}. Jetzt die Datei hochladen; geprüft wird beides zusammen.",
                 "Noted: {ids}. Now upload the file; both are checked together."),
    "up_summary": ("{file}: {n} Werte; {indicators} {titles}; {periods} {labels}",
                   "{file}: {n} values; {indicators} {titles}; {periods} {labels}"),
    "up_indicators": ("Indikatoren", "Indicators"),
    "up_not_in_file": ("(nicht in der Datei: bleibt)", "(not in the file: stays)"),
    "up_preview": ("Vorschau", "Preview"),
    "up_counts": ("{n} Werte in der Datei: {new} neu, {changed} geändert, {same} unverändert. ",
                  "{n} values in the file: {new} new, {changed} changed, {same} unchanged. "),
    "up_missing": ("{n} bisherige Werte derselben Zeiträume fehlen in der Datei; für sie gilt weiter "
                   "der bisherige Wert.",
                   "{n} previous values of the same periods are missing from the file; for them the "
                   "previous value stays."),
    "up_before": ("bisher", "before"),
    "up_delivery": ("Lieferung", "Delivery"),
    "up_delta": ("Änderung", "Change"),
    "up_shown": ("Gezeigt: {shown} von {total} Zeilen, Änderungen zuerst.",
                 "Shown: {shown} of {total} rows, changes first."),
    "up_no_versions": ("Keine Versionen.", "No versions."),
    "up_saved": ("Gespeichert als Entwurf: Version {ids}. Noch nicht sichtbar für andere – jetzt "
                 "intern freigeben (hier oder in der Versionsgeschichte unten).",
                 "Saved as a draft: version {ids}. Not yet visible to others – release it internally "
                 "now (here or in the version history below)."),
    "up_discarded": ("Verworfen. Nichts wurde gespeichert.", "Discarded. Nothing was stored."),
    "up_no_version": ("Keine Version gewählt.", "No version chosen."),
    "ra_bad_time": ("Termin {text} nicht lesbar: bitte Datum und Uhrzeit wie 01.12.2026 09:00 "
                    "angeben, oder das Feld leer lassen für sofort.",
                    "Date {text} not readable: please give date and time like 01.12.2026 09:00, or "
                    "leave the field empty for now."),
    "ra_internal": ("Version {v} ist intern freigegeben: alle Mitarbeitenden sehen sie jetzt. Die "
                    "öffentliche Freigabe gibt die Administration (Seite Freigaben).",
                    "Version {v} is released internally: all staff see it now. The public release is "
                    "given by the administration (page Releases)."),
    "ra_scheduled": ("Version {v}: öffentliche Freigabe geplant für {when}. Bis dahin sieht die "
                     "Öffentlichkeit die bisherigen Werte; der Termin lässt sich bis dahin aufheben.",
                     "Version {v}: public release planned for {when}. Until then the public sees the "
                     "previous values; the date can be cancelled until then."),
    "ra_public": ("Version {v} ist öffentlich freigegeben: jede und jeder sieht die Werte jetzt.",
                  "Version {v} is released publicly: everyone sees the values now."),
    "ra_unscheduled": ("Termin aufgehoben: Version {v} bleibt {state}. Sie können sie jetzt oder zu "
                       "einem neuen Termin freigeben.",
                       "Date cancelled: version {v} stays {state}. You can release it now or at a new"
                       " date."),
    "ra_rolled_back": ("Version {v} ist zurückgezogen; es gelten wieder die Werte der Version davor. "
                       "Der Grund steht im Protokoll.",
                       "Version {v} is withdrawn; the values of the version before apply again. The "
                       "reason is in the log."),
    "ra_ask_public": ("{what}: öffentlich freigeben? Danach sieht jede und jeder die Werte (kleine "
                      "Fallzahlen bleiben geheim gehalten). Ohne Termin sofort, mit Termin zu diesem "
                      "Zeitpunkt; bis dahin aufhebbar.",
                      "{what}: release publicly? Then everyone sees the values (small numbers stay "
                      "withheld). Without a date at once, with a date at that time; cancellable until"
                      " then."),
    "ra_ask_rollback": ("{what}: zurückziehen? Ihre Werte gelten dann nicht mehr, es gelten wieder "
                        "die der Version davor; die Version bleibt in der Geschichte. Bitte geben Sie"
                        " den Grund an.",
                        "{what}: withdraw? Its values no longer apply, those of the version before "
                        "apply again; the version stays in the history. Please give the reason."),
    "ra_need_reason": ("Bitte geben Sie einen Grund für das Zurückziehen an; er kommt ins Protokoll.",
                       "Please give a reason for the withdrawal; it goes into the log."),
    "ra_not_done": ("Nicht ausgeführt: {exc}", "Not done: {exc}"),
    "ra_aborted": ("Abgebrochen; nichts wurde geändert.", "Cancelled; nothing was changed."),
    # ---- the workflow services' refusals (issue 16): catalogue `Message`s, said in the reader's language
    # versions (upload, release, rollback, schedule, visibility, metadata)
    "ver_not_found": ("Version oder Upload nicht gefunden", "Version or upload not found"),
    "ver_bad_projection": ("projection: die Variante der Prognose als Text, höchstens {n} Zeichen "
                           "(z. B. „Hauptvariante 2025“)",
                           "projection: the projection's variant as plain text of at most {n} characters "
                           "(e.g. “main variant 2025”)"),
    "ver_indicator_exists": ("Indikator-ID {id} wurde inzwischen angelegt",
                             "Indicator ID {id} has been created in the meantime; choose another ID"),
    "ver_visibility_admin_only": ("nur die Administration ändert die Sichtbarkeit",
                                  "only administrators change the visibility"),
    "ver_bad_visibility": ("'to' muss public, internal oder restricted sein",
                           "'to' must be public, internal or restricted"),
    "ver_configured": ("{id} ist in layers/*.toml definiert; dort ändern",
                       "{id} is defined in layers/*.toml; change it there"),
    "ver_bad_state": ("'to' muss 'internal' oder 'public' sein", "'to' must be 'internal' or 'public'"),
    "ver_public_admin_only": ("Freigabe für die Öffentlichkeit nur durch die Administration",
                              "only administrators release to the public"),
    "ver_internal_department_only": ("nur das zuständige Fachamt gibt intern frei",
                                     "only the responsible department releases internally"),
    "ver_bad_transition": ("Version ist '{state}'; '{to}' ist kein Schritt nach vorn",
                           "the version is '{state}'; '{to}' is not a step forward"),
    "ver_not_public_indicator": ("{id} ist als '{visibility}' katalogisiert; eine öffentliche Freigabe ist nicht "
                                 "möglich", "{id} is catalogued as '{visibility}'; it cannot be released to the "
                                 "public"),
    "ver_bad_time": ("'at' als Datum/Uhrzeit, z. B. 2026-12-01T09:00",
                     "give 'at' as a date and time, e.g. 2026-12-01T09:00"),
    "ver_time_past": ("der Freigabetermin muss in der Zukunft liegen", "the release time must lie in the future"),
    "ver_already_withdrawn": ("Version ist bereits zurückgezogen", "the version is already withdrawn"),
    "ver_withdraw_admin_only": ("öffentliche Versionen zieht nur die Administration zurück",
                                "only administrators withdraw public versions"),
    "ver_not_scheduled": ("Für diese Version ist keine Freigabe geplant, oder sie ist schon erfolgt; zurücknehmen "
                          "lässt sich eine erfolgte Freigabe nur durch Zurückziehen",
                          "No release is scheduled for this version, or it has already taken place; a release "
                          "that has taken place can only be undone by withdrawing the version"),
    "ver_unschedule_admin_only": ("den Termin einer öffentlichen Freigabe hebt nur die Administration auf",
                                  "only administrators cancel a scheduled public release"),
    "ver_unschedule_department_only": ("nur das zuständige Fachamt hebt den Termin auf",
                                       "only the responsible department cancels the scheduled release"),
    "ver_schedule_changed": ("Der Termin wurde inzwischen geändert; bitte Seite neu laden",
                             "The scheduled time has changed in the meantime; please reload the page"),
    "ver_metadata_admin_only": ("Metadaten ändert nur die Administration", "only administrators change metadata"),
    "ver_bad_metadata": ("Metadaten als Feld → Wert angeben", "give the metadata as field → value"),
    "ver_metadata_fixed": ("nicht änderbar: {fields}; änderbar sind {editable}",
                           "cannot be changed: {fields}; these can be changed: {editable}"),
    "ver_metadata_threshold": ("{field}: eine ganze Zahl ≥ 0 angeben (0 = keine Schwelle), nicht {value}",
                               "{field}: give a whole number ≥ 0 (0 = no threshold), not {value}"),
    "ver_metadata_negative": ("{field}: eine ganze Zahl ≥ 0 angeben, nicht {value}",
                              "{field}: give a whole number ≥ 0, not {value}"),
    "ver_metadata_empty": ("{field} darf nicht leer sein", "{field} must not be empty"),
    # targets and dashboard tiles; `tgt_number` and `tgt_json_object` also for warning rules and the register
    "tgt_not_found": ("Indikator nicht gefunden", "Indicator not found"),
    "tgt_number": ("'{name}' muss eine Zahl sein", "'{name}' must be a number"),
    "tgt_json_object": ("JSON-Objekt erwartet", "A JSON object is expected"),
    "tgt_department_only": ("Ziele setzt das zuständige Fachamt", "Targets are set by the responsible department"),
    "tgt_direction": ("'direction': up (mindestens) oder down (höchstens)",
                      "'direction': up (at least) or down (at most)"),
    "tgt_warn_side": ("die Warnschwelle liegt vor dem Ziel (up: warn < target, down: warn > target)",
                      "the warning threshold lies before the target (up: warn < target, down: warn > target)"),
    "tgt_deadline": ("'deadline' als Datum, z. B. 2030-12-31", "give 'deadline' as a date, e.g. 2030-12-31"),
    "tgt_tiles": ('{{"organisation": …, "indicators": [IDs]}} erwartet',
                  'expected: {{"organisation": …, "indicators": [IDs]}}'),
    "tgt_organisation": ("'organisation': eine von {choices}", "'organisation': one of {choices}"),
    "tgt_tiles_own": ("die Kacheln wählt die Organisation selbst", "each organisation chooses its own tiles"),
    "tgt_unknown": ("unbekannte Indikatoren: {ids}", "unknown indicators: {ids}"),
    # early-warning rules
    "ewr_department_only": ("Frühwarnregeln setzt das zuständige Fachamt",
                            "Early-warning rules are set by the responsible department"),
    "ewr_change_pct": ("'change_pct' ist eine Prozentzahl über 0, z. B. 25",
                       "'change_pct' is a percentage above 0, e.g. 25"),
    "ewr_worst_class": ("'worst_class' ist true oder false", "'worst_class' is true or false"),
    "ewr_neutral": ("{id} hat keine Richtung (neutral): es gibt keine schlechteste Klasse",
                    "{id} has no direction (neutral): there is no worst class"),
    # the register of goals and measures
    "msr_required": ("'{name}' fehlt", "'{name}' is required"),
    "msr_visibility": ("'visibility': public oder internal", "'visibility': public or internal"),
    "msr_goals_admin_only": ("Ziele des Registers legt die Administration fest",
                             "Only administrators set the register's goals"),
    "msr_no_parent": ("'parent': dieses Leitziel gibt es nicht", "'parent': there is no such main goal"),
    "msr_parent_is_sub": ("'parent' muss ein Leitziel sein (ein Teilziel hat keine Teilziele)",
                          "'parent' must be a main goal (a sub-goal has no sub-goals)"),
    "msr_indicators": ("'indicators': eine Liste von Indikator-IDs", "'indicators': a list of indicator IDs"),
    "msr_unknown_indicator": ("'indicators': einen dieser Indikatoren gibt es nicht",
                              "'indicators': one of these indicators does not exist"),
    "msr_ids": ("'unit', 'goal' (und 'id') sind Kennungen (Text)", "'unit', 'goal' (and 'id') are identifiers (text)"),
    "msr_unit": ("'unit': eine von {choices}", "'unit': one of {choices}"),
    "msr_unit_only": ("Maßnahmen trägt die verantwortliche Stelle ein", "Measures are entered by the responsible unit"),
    "msr_no_goal": ("'goal': dieses Ziel gibt es im Register nicht", "'goal': the register has no such goal"),
    "msr_review": ("'review' (Wiedervorlage) als Datum, z. B. 2027-03-31",
                   "give 'review' (the review date) as a date, e.g. 2027-03-31"),
    "msr_state": ("'state': open, done oder dropped", "'state': open, done or dropped"),
    "msr_not_found": ("Maßnahme nicht gefunden", "Measure not found"),
    # composite indices and the typology
    "ix_err_not_found": ("Indikator nicht gefunden", "Indicator not found"),
    "ix_err_recipe_object": ("Rezept als JSON-Objekt erwartet", "A recipe must be a JSON object"),
    "ix_err_inputs": ("'inputs': 1 bis {n} Indikatoren", "'inputs': 1 to {n} indicators"),
    "ix_err_input_indicator": ("jeder Eintrag braucht 'indicator'", "each input needs 'indicator'"),
    "ix_err_weight": ("Gewichte müssen positive Zahlen sein", "Weights must be positive numbers"),
    "ix_err_polarity": ("'polarity': high_good oder high_bad", "'polarity': high_good or high_bad"),
    "ix_err_once": ("jeder Indikator höchstens einmal", "each indicator at most once"),
    "ix_err_method": ("'method': eine von {choices}", "'method': one of {choices}"),
    "ix_err_missing": ("'missing': eine von {choices}", "'missing': one of {choices}"),
    "ix_err_period": ("Zeitraum: 2024, 2024-Q3 oder 2024-06", "period: 2024, 2024-Q3 or 2024-06"),
    "ix_err_level": ("level: eine von {choices}", "level: one of {choices}"),
    "ix_err_level_not_meaningful": ("Auf dieser Ebene ist ein Index nicht sinnvoll (zu wenige Gebiete oder nicht "
                                    "aggregierbare Eingänge)", "An index is not meaningful at this level (too few "
                                    "areas, or inputs that cannot be aggregated); choose another level"),
    "ix_err_no_common_period": ("kein gemeinsamer Zeitraum aller Eingänge", "the inputs have no period in common"),
    "ix_err_reference": ("Referenzzeitraum fehlt bei einem Eingang", "an input lacks the reference period"),
    "ix_err_restricted": ("eingeschränkte Indikatoren können nicht in einen gespeicherten Index eingehen",
                          "restricted indicators cannot go into a saved index"),
    "ix_err_id": ("'id': a-z, 0-9, _ (2–60 Zeichen)", "'id': a-z, 0-9, _ (2–60 characters)"),
    "ix_err_title": ("'title_de' fehlt", "'title_de' is required"),
    "ix_err_department": ("Fachamt: eines der eigenen", "department: one of your own"),
    "ix_err_not_released": ("nicht alle Eingänge sind freigegeben", "not all inputs are released"),
    "ix_err_exists": ("Indikator-ID {id} ist vergeben", "indicator ID {id} is already taken"),
    "ix_err_cuts": ("{n} aufsteigende Grenzen in Standardabweichungen erwartet",
                    "{n} ascending limits in standard deviations are expected"),
    "ix_err_years": ("'years': 1 bis 20", "'years': 1 to 20"),
    "ix_err_periods_needed": ("Zeiträume {before} und {period} werden beide gebraucht",
                              "periods {before} and {period} are both needed"),
    # cluster typology
    "cl_err_json_object": ("ein JSON-Objekt erwartet", "a JSON object is expected"),
    "cl_err_indicators": ("indicators: 2 bis 12 Indikator-IDs", "indicators: 2 to 12 indicator IDs"),
    "cl_err_k": ("k: eine ganze Zahl von 2 bis 10", "k: a whole number from 2 to 10"),
    "cl_err_method": ("method: 'kmeans' oder 'ward'", "method: 'kmeans' or 'ward'"),
    "cl_err_level": ("level: eine von {choices}", "level: one of {choices}"),
    "cl_err_period": ("period fehlt", "period is required"),
    "cl_err_too_few": ("zu wenige Gebiete mit allen Werten ({n}) für {k} Cluster; wählen Sie weniger Cluster, eine "
                       "tiefere Ebene oder weniger Indikatoren", "too few areas with all values ({n}) for {k} "
                       "clusters; choose fewer clusters, a lower level or fewer indicators"),
    # release steps on the pages
    "rel_err_bad_action": ("unbekannter Schritt", "unknown step"),
    "adm_toc_users": ("Konten", "Accounts"),
    "adm_toc_new": ("Neue Indikatoren", "New indicators"),
    "adm_toc_boundaries": ("Gebietsgrenzen", "Boundaries"),
    "adm_toc_meta": ("Metadaten", "Metadata"),
    "adm_toc_tokens": ("API-Token", "API tokens"),
    "adm_sections": ("Abschnitte", "Sections"),
    "adm_au_at": ("Zeit (Ortszeit)", "Time (local)"),
    "adm_au_who": ("Wer", "Who"),
    "adm_au_action": ("Aktion", "Action"),
    "adm_au_target": ("Betroffen", "Concerns"),
    "adm_au_detail": ("Details", "Details"),
    "adm_au_ip": ("IP", "IP"),
    "adm_au_count": ("{n} Einträge", "{n} entries"),
    "adm_au_newest": ("Die neuesten {shown} von {n} Einträgen; alle im CSV-Export.",
                      "The newest {shown} of {n} entries; all in the CSV export."),
    "adm_au_from": ("von (Datum)", "from (date)"),
    "adm_au_to": ("bis (Datum)", "to (date)"),
    "adm_au_csv": ("Als CSV herunterladen", "Download as CSV"),
    "adm_m_title_de": ("Titel (deutsch)", "Title (German)"),
    "adm_m_title_en": ("Titel (englisch)", "Title (English)"),
    "adm_m_unit_en": ("Einheit (englisch, wenn sie Wörter hat)", "Unit (English, if it has words)"),
    "adm_m_def_de": ("Definition (deutsch)", "Definition (German)"),
    "adm_m_def_en": ("Definition (englisch)", "Definition (English)"),
    "adm_m_num_below": ("Geheimhaltung: Zähler unter", "Disclosure control: numerator below"),
    "adm_m_den_below": ("Geheimhaltung: Nenner unter", "Disclosure control: denominator below"),
    "adm_m_value_below": ("Geheimhaltung: Anzahl unter (leer = Standard 3)",
                          "Disclosure control: count below (empty = default 3)"),
    "adm_meta": ("Indikator-Metadaten", "Indicator metadata"),
    "adm_meta_intro": ("Für Indikatoren, die mit einer Lieferung angelegt wurden (die übrigen stehen "
                       "in layers/*.toml). Jede Änderung ist eine neue Metadaten-Version; die "
                       "vorherigen Werte bleiben in der Geschichte und im Protokoll. "
                       "Geheimhaltungsschwellen wirken sofort auf Karte, API und Exporte.",
                       "For indicators created with a delivery (the others are in layers/*.toml). "
                       "Every change is a new metadata version; the previous values stay in the "
                       "history and in the log. Disclosure thresholds act at once on map, API and "
                       "exports."),
    "adm_meta_none": ("keine über Uploads angelegten", "none created through uploads"),
    "adm_meta_save": ("Metadaten speichern", "Save metadata"),
    "adm_meta_version": ("Metadaten-Version {n}", "Metadata version {n}"),
    "adm_meta_as_created": (" (wie angelegt)", " (as created)"),
    "adm_when": ("wann", "when"),
    "adm_changes": ("Änderungen", "Changes"),
    "adm_tk_id": ("ID", "ID"),
    "adm_tk_account": ("Konto", "Account"),
    "adm_tk_name": ("Bezeichnung", "Label"),
    "adm_tk_created": ("erstellt", "created"),
    "adm_tk_expires": ("gültig bis", "valid until"),
    "adm_tk_revoked": ("widerrufen {when}", "revoked {when}"),
    "adm_tk_expired": ("abgelaufen", "expired"),
    "adm_tk_revoke": ("Widerrufen", "Revoke"),
    "adm_tk_unlimited": ("unbegrenzt", "unlimited"),
    "adm_tk_none": ("Noch keine API-Token.", "No API tokens yet."),
    "adm_tk_intro": ("Für Fachverfahren und Skripte (Authorization: Bearer …). Ein Token handelt mit "
                     "den Rechten seines Kontos; es wird nur einmal angezeigt, gespeichert wird nur "
                     "eine Prüfsumme. Nach dem Ablaufdatum wird es abgelehnt wie ein widerrufenes.",
                     "For specialist systems and scripts (Authorization: Bearer …). A token acts with"
                     " the rights of its account; it is shown only once, only a checksum is stored. "
                     "After its expiry date it is refused like a revoked one."),
    "adm_tk_example": ("z. B. Fachverfahren SGB II", "e.g. SGB II case system"),
    "adm_tk_until": ("gültig bis (einschließlich)", "valid until (inclusive)"),
    "adm_tk_create": ("Token erstellen", "Create token"),
    "adm_requests": ("Neue Indikatoren: Sichtbarkeit freigeben", "New indicators: release their visibility"),
    "adm_no_requests": ("Keine offenen Anträge.", "No open requests."),
    "adm_created_by": ("angelegt von", "created by"),
    "adm_bd_title": ("Gebietsgrenzen hochladen", "Upload boundaries"),
    "adm_bd_intro": ("GeoJSON, GeoPackage oder ZIP mit Shapefile, in jedem Koordinatensystem. Geprüft"
                     " werden Geometrie, Überlappungen, Lücken und Schlüssel; der bisherige "
                     "Gebietsstand gilt bis zum Vortag weiter.",
                     "GeoJSON, GeoPackage or a ZIP with a shapefile, in any coordinate system. "
                     "Geometry, overlaps, gaps and keys are checked; the previous boundaries stay "
                     "valid until the day before."),
    "adm_bd_from": ("gültig ab", "valid from"),
    "adm_bd_key": ("Spalte Schlüssel", "Key column"),
    "adm_bd_name": ("Spalte Name", "Name column"),
    "adm_bd_parent": ("Spalte Stadtbezirk (Schlüssel)", "District column (key)"),
    "adm_bd_parent_len": ("oder: Stadtbezirk = erste N Zeichen des Schlüssels",
                          "or: district = first N characters of the key"),
    "drop_here": ("Datei hierher ziehen", "Drop a file here"),
    "drop_or_click": (" oder klicken, um sie auszuwählen", " or click to choose one"),
    "rel_planned": ("geplant: {state} am {when}", "planned: {state} on {when}"),
    "rel_since": ("{state} seit {when} (Termin)", "{state} since {when} (scheduled)"),
    "vt_version": ("Version", "Version"),
    "vt_periods": ("Zeiträume", "Periods"),
    "vt_state": ("Stand", "State"),
    "vt_created": ("hochgeladen", "uploaded"),
    "vt_release": ("Freigabe", "Release"),
    "vt_changes": ("neu / geändert / nicht erneut", "new / changed / not redelivered"),
    "vt_source": ("{file} ({n} Werte)", "{file} ({n} values)"),
    "ap_at": ("Termin (leer = sofort), z. B. 01.12.2026 09:00", "Date (empty = now), e.g. 01.12.2026 09:00"),
    "ap_reason": ("Grund (kommt ins Protokoll)", "Reason (goes into the log)"),
    "ap_confirm": ("Bestätigen", "Confirm"),
    "ap_abort": ("Abbrechen", "Cancel"),
    "wf_denied": ("Für diese Seite fehlt Ihnen die Berechtigung (Datenpflege oder Administration).",
                  "You lack the rights for this page (data stewards or administration)."),
    "wf_denied_login": (" – mit einem Konto der Datenpflege.", " – with a data steward's account."),
    "rq_primary": ("primär (kleine Zahl)", "primary (small number)"),
    "rq_secondary": ("sekundär (Rückrechnung)", "secondary (back-calculation)"),
    "rq_linked": ("verknüpft (gleiche Zählung)", "linked (same count)"),
    "rq_none_withheld": ("keine Zelle geheim gehalten", "no cell withheld"),
    "rq_withheld": ("{n} Zellen geheim: ", "{n} cells withheld: "),
    "rq_area": ("Gebiet", "Area"),
    "rq_counts": ("Zähler / Nenner", "Numerator / denominator"),
    "rq_reason": ("Grund", "Reason"),
    "rq_see_cells": ("Zellen ansehen", "See the cells"),
    "rq_empty": ("Nichts wartet auf die öffentliche Freigabe.", "Nothing waits for the public release."),
    "rq_withheld_col": ("Geheimhaltung", "Disclosure control"),
    "rq_withheld_cells": ("Geheim gehaltene Zellen", "Withheld cells"),
    "rq_intro_admin": ("Versionen, die intern freigegeben sind und auf die öffentliche Freigabe "
                       "warten, die älteste zuerst. Prüfen Sie, was sich geändert hat und welche "
                       "Zellen geheim gehalten werden; dann „Öffentlich freigeben …“: sofort oder zu "
                       "einem Termin (Sperrfrist). Einen Termin können Sie bis dahin aufheben. "
                       "„Geheimhaltung“ zählt die Zellen, die die Öffentlichkeit nicht sieht (kleine "
                       "Fallzahlen und was sich aus ihnen zurückrechnen ließe).",
                       "Versions released internally that wait for the public release, oldest first. "
                       "Check what changed and which cells are withheld; then “Release publicly …”: "
                       "now or at a date (embargo). You can cancel a date until then. “Disclosure "
                       "control” counts the cells the public does not see (small numbers and what "
                       "could be calculated back from them)."),
    "rq_intro_steward": ("Die intern freigegebenen Versionen Ihres Fachamts, die auf die öffentliche "
                         "Freigabe durch die Administration warten.",
                         "Your department's internally released versions that wait for the public "
                         "release by the administration."),
    "rq_refresh": ("Aktualisieren", "Refresh"),
    "up_col_area": ("Gebietsschlüssel", "Area key"),
    "up_col_area_name": ("Gebietsname", "Area name"),
    "up_col_period": ("Zeitraum / Stichtag", "Period / reference date"),
    "up_value": ("Wert", "Value"),
    "up_release_internal": ("Intern freigeben", "Release internally"),
    "up_release_public": ("Öffentlich freigeben", "Release publicly"),
    "up_release_at": ("Termin (optional, Sperrfrist), z. B. 01.12.2026 09:00:",
                      "Date (optional, embargo), e.g. 01.12.2026 09:00:"),
    "up_date_placeholder": ("TT.MM.JJJJ HH:MM", "DD.MM.YYYY HH:MM"),
    "up_intro": ("CSV (wie Excel sie speichert: Semikolon, Dezimalkomma; oder Komma und Dezimalpunkt)"
                 " oder XLSX, bis {limit} MB. Lang (Gebiet, Indikator, Zeitraum, Wert[, Zähler, "
                 "Nenner]) oder breit (eine Spalte je Indikator oder je Jahr). Nichts wird "
                 "gespeichert, bevor Sie es bestätigen.",
                 "CSV (as Excel saves it: semicolon and decimal comma, or comma and decimal point) or"
                 " XLSX, up to {limit} MB. Long (area, indicator, period, value[, numerator, "
                 "denominator]) or wide (one column per indicator or per year). Nothing is stored "
                 "before you confirm it."),
    "up_check_file": ("Datei hochladen und prüfen", "Upload and check a file"),
    "up_sheet": ("Tabellenblatt (XLSX, optional):", "Worksheet (XLSX, optional):"),
    "up_first_sheet": ("erstes Blatt", "first sheet"),
    "up_map_columns": ("Spalten zuordnen", "Map the columns"),
    "up_recheck": ("Erneut prüfen", "Check again"),
    "up_save_draft": ("Als Entwurf speichern", "Save as draft"),
    "up_projection": ("Prognose? Variante", "Projection? Variant"),
    "up_projection_placeholder": ("z. B. Hauptvariante 2025", "e.g. main variant 2025"),
    "up_projection_hint": ("Nur ausfüllen, wenn die Datei vorausberechnete Werte enthält: Karten, Zeitreihen und "
                           "Berichte kennzeichnen sie dann als Prognose. Leer lassen für beobachtete Werte.",
                           "Fill in only when the file holds projected figures: maps, time series and reports then "
                           "mark them as a projection. Leave empty for observed figures."),
    "up_discard": ("Verwerfen", "Discard"),
    "up_history": ("Versionsgeschichte", "Version history"),
    "up_history_intro": ("Jede Lieferung ist eine Version: Entwurf → intern freigegeben (Ihr Fachamt)"
                         " → öffentlich (die Administration). Angeboten werden nur die Schritte, die "
                         "Sie gehen dürfen. Was auf die öffentliche Freigabe wartet, steht unter ",
                         "Every delivery is a version: draft → released internally (your department) "
                         "→ public (the administration). Only the steps you may take are offered. "
                         "What waits for the public release is listed under "),
    "up_pick_indicator": ("Indikator wählen …", "Choose an indicator …"),
    "up_new_id": ("Kürzel (a–z, 0–9, _)", "Short name (a–z, 0–9, _)"),
    "up_new_title": ("Titel", "Title"),
    "up_new_numerator": ("Zähler (bei Anteilen)", "Numerator (for shares)"),
    "up_new_denominator": ("Nenner (bei Anteilen)", "Denominator (for shares)"),
    "up_new": ("Neuer Indikator (für Werte, die es im Atlas noch nicht gibt)",
               "New indicator (for values the atlas does not have yet)"),
    "up_kind": ("Art", "Kind"),
    "up_kind_ratio": ("Anteil/Quote (Zähler/Nenner)", "Share/rate (numerator/denominator)"),
    "up_kind_sum": ("Anzahl", "Count"),
    "up_per": ("je", "per"),
    "up_periodicity": ("Periodizität", "Periodicity"),
    "up_year": ("Jahr", "Year"),
    "up_quarter": ("Quartal", "Quarter"),
    "up_domain": ("Themenfeld", "Topic"),
    "up_vis_public": ("öffentlich (gibt die Administration frei)", "public (released by the administration)"),
    "up_vis_restricted": ("nur eigenes Fachamt", "own department only"),
    "up_polarity": ("Hoher Wert ist", "A high value is"),
    "up_bad": ("ungünstig", "unfavourable"),
    "up_good": ("günstig", "favourable"),
    "up_neutral": ("neutral", "neutral"),
    "up_new_add": ("Indikator für diese Lieferung vormerken", "Add the indicator to this delivery"),
    "up_template": ("Vorlage holen", "Get a template"),
    "up_template_intro": ("Die Vorlage hat die Spalten, die der Atlas ohne Zuordnung erkennt, alle "
                          "Gebiete des aktuellen Gebietsstands und Ihre Werte des letzten Zeitraums. "
                          "Tragen Sie den neuen Zeitraum und die Zahlen ein und laden Sie sie unten "
                          "hoch. Bei Anteilen kann der Wert leer bleiben: er wird aus Zähler und "
                          "Nenner berechnet.",
                          "The template has the columns the atlas recognises without mapping, every "
                          "area of the current boundaries and your values of the last period. Enter "
                          "the new period and the figures and upload it below. For shares the value "
                          "may stay empty: it is computed from numerator and denominator."),
    "up_template_csv": ("Vorlage als CSV (Excel)", "Template as CSV (Excel)"),
    "up_template_xlsx": ("Vorlage als XLSX", "Template as XLSX"),
    "up_history_pick": ("Wählen Sie einen Indikator, um seine Versionen zu sehen.",
                        "Choose an indicator to see its versions."),
    "up_report": ("Prüfbericht", "Check report"),
    "up_no_errors": ("Keine Fehler. Sehen Sie die Vorschau unten durch und speichern Sie dann als "
                     "Entwurf.",
                     "No errors. Look through the preview below, then save as a draft."),
    "up_special_rows": ("Besondere Zeilen:", "Special rows:"),
    "up_row": ("Zeile", "Row"),
    "up_column": ("Spalte", "Column"),
    "up_content": ("Inhalt", "Content"),
    "up_problem": ("Problem und was zu tun ist", "Problem and what to do"),
    "up_warning": ("Hinweis", "Note"),
    "up_warnings": ("{n} Hinweise (blockieren nicht): prüfen Sie die Werte; stimmen sie, speichern "
                    "Sie trotzdem.",
                    "{n} notes (not blocking): check the values; if they are right, save anyway."),
    "up_errors": ("{n} Fehler{more}: die Datei kann so nicht gespeichert werden. Korrigieren Sie die "
                  "genannten Zellen in Ihrer Datei und laden Sie sie erneut hoch.",
                  "{n} errors{more}: the file cannot be stored like this. Correct the cells named in "
                  "your file and upload it again."),
    "up_more": (" (und {n} weitere)", " (and {n} more)"),
    "up_more_warnings": ("Weitere {n} Hinweise zeigen", "Show {n} more notes"),
    "nav_admin": ("Verwaltung", "Administration"),
    "nav_upload": ("Daten hochladen", "Upload data"),
    # ---- page shell, accessibility statement, imprint, privacy, 404 (issue 16)
    "main_nav": ("Hauptnavigation", "Main navigation"),
    "skip_nav": ("Sprunglinks", "Skip links"),
    "skip_main": ("Zum Inhalt springen", "Skip to content"),
    "skip_map": ("Zur Karte springen", "Skip to the map"),
    "skip_table": ("Zur Tabelle springen", "Skip to the table"),
    "skip_controls": ("Zur Auswahl springen", "Skip to the controls"),
    "map_heading": ("Karte der Indikatoren", "Indicator map"),
    "legal_nav": ("Rechtliches", "Legal"),
    "legal_accessibility": ("Barrierefreiheit", "Accessibility"),
    "a11y_title": ("Erklärung zur Barrierefreiheit", "Accessibility statement"),
    "dd_selected_count": ("{num_selected} ausgewählt", "{num_selected} selected"),
    "legal_imprint": ("Impressum", "Imprint"),
    "legal_privacy": ("Datenschutz", "Privacy"),
    "a11y_intro": ("Öffentliche Stellen sind verpflichtet, ihre Websites barrierefrei zugänglich zu machen "
                   "(Richtlinie (EU) 2016/2102, umgesetzt durch die BITV 2.0 und die Gesetze der Länder). Diese "
                   "Erklärung gilt für diesen Ortsatlas; Maßstab ist {standard}.",
                   "Public bodies must make their websites accessible (Directive (EU) 2016/2102, implemented in "
                   "Germany by the BITV 2.0 and the laws of the Länder). This statement applies to this "
                   "Ortsatlas; the standard is {standard}."),
    "a11y_status": ("Stand der Vereinbarkeit mit den Anforderungen", "Compliance status"),
    "a11y_status_full": ("Dieser Ortsatlas ist mit den Anforderungen vollständig vereinbar.",
                         "This Ortsatlas is fully compliant."),
    "a11y_status_partial": ("Dieser Ortsatlas ist mit den Anforderungen teilweise vereinbar. Die unten "
                            "genannten Inhalte sind nicht oder nicht vollständig barrierefrei.",
                            "This Ortsatlas is partially compliant. The content named below is not, or not "
                            "fully, accessible."),
    "a11y_status_none": ("Dieser Ortsatlas ist mit den Anforderungen nicht vereinbar.",
                         "This Ortsatlas is not compliant."),
    "a11y_audit": ("Erstellung dieser Erklärung", "Preparation of this statement"),
    "a11y_standard": ("Maßstab", "Standard"),
    "a11y_date": ("Letzte Prüfung", "Last audit"),
    "a11y_tool": ("Werkzeug", "Tool"),
    "a11y_method": ("Vorgehen", "Method"),
    "a11y_pages": ("Geprüfte Seiten", "Pages checked"),
    "a11y_limitations": ("Nicht barrierefreie Inhalte", "Content that is not accessible"),
    "a11y_no_limitations": ("Keine bekannt.", "None known."),
    "a11y_feedback": ("Feedback, Kontakt und Durchsetzungsverfahren", "Feedback, contact and enforcement"),
    "a11y_contact_missing": ("Die Kontaktangaben für Rückmeldungen zur Barrierefreiheit und die zuständige "
                             "Durchsetzungs- bzw. Schlichtungsstelle des Landes hat der Betreiber dieses Ortsatlas "
                             "noch nicht hinterlegt (ATLAS_ACCESSIBILITY_CONTACT_FILE).",
                             "The operator of this Ortsatlas has not yet provided the contact for feedback on "
                             "accessibility and the Land's enforcement or conciliation body "
                             "(ATLAS_ACCESSIBILITY_CONTACT_FILE)."),
    "imprint_missing": ("Das Impressum hat der Betreiber dieses Ortsatlas noch nicht hinterlegt "
                        "(ATLAS_IMPRINT_FILE).",
                        "The operator of this Ortsatlas has not yet provided the imprint (ATLAS_IMPRINT_FILE)."),
    "privacy_missing": ("Die Datenschutzerklärung hat der Betreiber dieses Ortsatlas noch nicht hinterlegt "
                        "(ATLAS_PRIVACY_FILE).",
                        "The operator of this Ortsatlas has not yet provided the privacy notice "
                        "(ATLAS_PRIVACY_FILE)."),
    "not_allowed_title": ("Keine Berechtigung", "Not allowed"),
    "cmp_chart_name": ("Zeitreihen der gewählten Gebiete (Zahlen in der Tabelle oben)",
                       "Time series of the chosen areas (figures in the table above)"),
    "cmp_rel_chart_name": ("Streudiagramm der beiden Indikatoren über die Gebiete",
                           "Scatter plot of the two indicators across the areas"),
    "cmp_brushed": ("Hervorgehobene Gebiete (im Streudiagramm markieren oder in der Karte anklicken)",
                    "Highlighted areas (select in the scatter plot or click on the map)"),
    "cmp_brushed_hint": ("Gebiete wählen …", "Choose areas …"),
    "not_found_title": ("Seite nicht gefunden", "Page not found"),
    "not_found_text": ("Diese Adresse gibt es im Ortsatlas nicht (mehr). Weiter geht es hier:",
                       "This address does not exist (any more) in the Ortsatlas. Carry on here:"),
    "role_public": ("Öffentlichkeit", "public"),
    "role_internal": ("intern", "internal"),
    "role_steward": ("Datenpflege", "data steward"),
    "role_admin": ("Administration", "admin"),
    "not_allowed": ("Für diese Seite fehlt Ihnen die Berechtigung.", "You are not allowed to see this page."),
    "users": ("Benutzerkonten", "User accounts"),
    "audit": ("Protokoll", "Audit log"),
    "add_user": ("Konto anlegen", "Add account"),
    "change_user": ("Konto ändern", "Change account"),
    "username": ("Benutzername", "User name"),
    "password": ("Passwort", "Password"),
    "role": ("Rolle", "Role"),
    "departments": ("Fachämter", "Departments"),
    "grants": ("Freigaben (eingeschränkte Indikatoren)", "Grants (restricted indicators)"),
    "status": ("Status", "Status"),
    "active": ("aktiv", "active"),
    "disabled": ("gesperrt", "disabled"),
    "save": ("Speichern", "Save"),
    "disable": ("Sperren", "Disable"),
    "enable": ("Entsperren", "Enable"),
    "new_password": ("Neues Passwort (leer = unverändert)", "New password (empty = unchanged)"),
    "saved": ("Gespeichert.", "Saved."),
    "export": ("Herunterladen und teilen", "Download and share"),
    "export_data": ("Daten", "Data"),
    "format": ("Format", "Format"),
    "more_indicators": ("Weitere Indikatoren (optional)", "More indicators (optional)"),
    "periods_scope": ("Zeiträume", "Periods"),
    "scope_current": ("gewählter Zeitraum", "selected period"),
    "scope_all": ("alle Zeiträume", "all periods"),
    "level": ("Ebene", "Level"),
    "layout": ("Tabellenform", "Layout"),
    "layout_long": ("lang (eine Zeile je Wert)", "long (one row per value)"),
    "layout_wide": ("breit (eine Spalte je Indikator)", "wide (one column per indicator)"),
    "download": ("Herunterladen", "Download"),
    "pictures": ("Bilder für Berichte", "Pictures for reports"),
    "map_picture": ("Karte", "Map"),
    "chart_picture": ("Zeitreihe", "Time series"),
    "print_view": ("Druckansicht (A4 quer)", "Print view (A4 landscape)"),
    "share": ("Link zu dieser Ansicht", "Link to this view"),
    "copy_link": ("Link kopieren", "Copy link"),
    "copied": ("Kopiert.", "Copied."),
    "qgis_hint": ("Tipp: Der Link zu GeoJSON lässt sich in QGIS direkt als Layer laden.",
                  "Tip: the GeoJSON link loads directly as a layer in QGIS."),
    # Area profiles (Steckbriefe), booklets, reports, interpretation notes.
    "nav_profiles": ("Gebietsprofile", "Area profiles"),
    "profile": ("Profil", "Profile"),
    "prof_title": ("Gebietsprofil", "Area profile"),
    "prof_search": ("Gebiet suchen (Name oder Schlüssel)", "Find an area (name or key)"),
    "prof_search_go": ("Suchen", "Search"),
    "prof_no_match": ("Kein Gebiet gefunden.", "No area found."),
    "prof_not_found": ("Dieses Gebiet gibt es nicht.", "There is no such area."),
    "prof_all_areas": ("Alle Gebiete", "All areas"),
    "prof_indicator": ("Indikator", "Indicator"),
    "prof_value": ("Wert", "Value"),
    "prof_difference": ("Differenz zu {territory}", "Difference to {territory}"),
    "prof_trend": ("Trend", "Trend"),
    "prof_distribution": ("Verteilung ({level})", "Distribution ({level})"),
    "prof_summary": ("Was auffällt", "What stands out"),
    "prof_summary_none": ("Nach den unten genannten Schwellen fällt kein Indikator besonders auf.",
                          "By the thresholds stated below, no indicator stands out."),
    "prof_rules": ("So lesen Sie das Profil", "How to read this profile"),
    "prof_status_ok": ("", ""),
    "prof_status_missing": ("keine Daten", "no data"),
    "prof_status_suppressed": ("geheim gehalten", "suppressed"),
    "prof_status_boundary": ("nicht vergleichbar (Gebietsänderung)", "not comparable (boundary change)"),
    "prof_pp": ("%-Pkt.", "pp"),
    "prof_share": ("{share} % der Gesamtzahl", "{share} % of the total"),
    "prof_since": ("seit", "since"),
    "prof_dir_up": ("steigend", "rising"),
    "prof_dir_down": ("fallend", "falling"),
    "prof_dir_flat": ("gleichbleibend", "steady"),
    "prof_trend_short": ("Reihe zu kurz", "series too short"),
    "prof_trend_missing": ("kein Vergleichswert", "no value to compare"),
    "prof_trend_self": ("ohne aktuellen Wert", "no current value"),
    "prof_trend_suppressed": ("Vergleichswert geheim gehalten", "value to compare suppressed"),
    "prof_trend_boundary": ("nicht vergleichbar (Gebietsänderung)", "not comparable (boundary change)"),
    "prof_strip_none": ("zu wenige Werte für eine Verteilung", "too few values for a distribution"),
    "prof_strip_words": ("{n} {level}: Minimum {low}, unteres Viertel bis {q1}, Median {median}, oberes Viertel ab "
                         "{q3}, Maximum {high}",
                         "{n} {level}: minimum {low}, lower quarter up to {q1}, median {median}, upper quarter "
                         "from {q3}, maximum {high}"),
    "prof_band_low": ("im unteren Viertel", "in the lower quarter"),
    "prof_band_mid": ("im mittleren Bereich", "in the middle half"),
    "prof_band_high": ("im oberen Viertel", "in the upper quarter"),
    "prof_rule_trend": ("Trend: Veränderung gegenüber demselben Zeitraum {years} Jahre zuvor (Quartale: dasselbe "
                        "Quartal). ↑ oder ↓ ab {pct} % relativer Veränderung, sonst →. Kein Pfeil, wenn ein Wert "
                        "fehlt, geheim gehalten ist oder sich der Gebietszuschnitt geändert hat.",
                        "Trend: change against the same period {years} years earlier (quarters: the same quarter). "
                        "↑ or ↓ from a relative change of {pct} %, else →. No arrow when a value is missing, "
                        "suppressed, or the area's boundaries changed."),
    "prof_rule_strip": ("Verteilung: jeder kurze graue Strich ist ein Gebiet derselben Ebene, der Kasten reicht vom "
                        "unteren bis zum oberen Viertel, der lange dunkle Strich ist der Median, die blaue Raute "
                        "dieses Gebiet. Es gibt bewusst keine Rangplätze.",
                        "Distribution: each short grey tick is an area of the same level, the box spans the lower "
                        "to the upper quartile, the long dark line is the median, the blue diamond this area. There "
                        "are deliberately no ranks."),
    "prof_rule_summary": ("„Was auffällt“ nennt Indikatoren, die mindestens {dev} % über oder unter dem Gesamtwert "
                          "liegen, und solche, die sich in {years} Jahren um mindestens {chg} % verändert haben. "
                          "Der Text wird aus den Zahlen erzeugt, nicht redaktionell geschrieben.",
                          "'What stands out' names indicators at least {dev} % above or below the overall value, "
                          "and those that changed by at least {chg} % in {years} years. The text is generated from "
                          "the numbers, not written by an editor."),
    "prof_rule_gaps": ("„keine Daten“: es liegt kein Wert vor. „geheim gehalten“: der Wert wird wegen kleiner "
                       "Fallzahlen nicht veröffentlicht. „nicht vergleichbar“: das Gebiet hatte in diesem Zeitraum "
                       "einen anderen Zuschnitt oder bestand nicht.",
                       "'no data': there is no value. 'suppressed': withheld because of small numbers. 'not "
                       "comparable': the area had other boundaries at that time, or did not exist."),
    "prof_rule_counts": ("Bei Anzahlen wird statt einer Differenz der Anteil an der Gesamtzahl gezeigt.",
                         "For counts, the share of the total is shown instead of a difference."),
    "prof_sum_above": ("Deutlich über dem Gesamtwert ({territory}; mindestens {dev} % höher)",
                       "Well above the overall value ({territory}; at least {dev} % higher)"),
    "prof_sum_below": ("Deutlich unter dem Gesamtwert ({territory}; mindestens {dev} % niedriger)",
                       "Well below the overall value ({territory}; at least {dev} % lower)"),
    "prof_sum_rising": ("Deutlich gestiegen (mindestens {chg} % in {years} Jahren)",
                        "Clearly rising (at least {chg} % in {years} years)"),
    "prof_sum_falling": ("Deutlich gesunken (mindestens {chg} % in {years} Jahren)",
                         "Clearly falling (at least {chg} % in {years} years)"),
    "prof_sum_withheld": ("Geheim gehalten (kleine Fallzahlen)", "Suppressed (small numbers)"),
    "prof_mark_public": ("Öffentliche Fassung: nur veröffentlichte Zahlen.", "Public edition: released figures only."),
    "prof_mark_internal": ("INTERN – enthält nicht veröffentlichte Zahlen. Nicht zur Weitergabe.",
                           "INTERNAL – contains unreleased figures. Not for distribution."),
    "prof_made": ("Erstellt am", "Made on"),
    "prof_data_as_of": ("Datenstand", "Data as of"),
    "prof_period_note": ("Zeitraum: jeweils der neueste verfügbare.", "Period: the latest available for each."),
    "prof_period_chosen": ("Stand {period}: je Indikator der neueste Zeitraum bis dahin.",
                           "As of {period}: for each indicator the latest period up to then."),
    "prof_gone": ("Dieses Gebiet besteht im aktuellen Gebietsstand nicht mehr.",
                  "This area no longer exists in the current boundaries."),
    "prof_gone_link": ("Profil zum letzten Stand vor der Änderung", "Profile as of before the change"),
    "prof_pdf": ("PDF (A4)", "PDF (A4)"),
    "prof_print": ("Drucken", "Print"),
    "prof_json": ("Daten (JSON)", "Data (JSON)"),
    "prof_to_map": ("In der Karte zeigen", "Show on the map"),
    "prof_sources": ("Quellen und Lizenzen", "Sources and licences"),
    "prof_notes": ("Hinweise", "Notes"),
    "prof_no_indicators": ("Für Sie sind keine Indikatoren mit Daten für dieses Gebiet freigegeben.",
                           "No indicators with data for this area are released to you."),
    "audit_note_added": ("Hinweis angelegt", "note added"),
    "audit_note_changed": ("Hinweis geändert", "note changed"),
    "audit_note_deleted": ("Hinweis gelöscht", "note deleted"),
    "rep_as_of": ("Gerendert mit dem Datenstand vom", "Rendered with the data as of"),
    "rep_versions": ("Versionen", "versions"),
    "rep_again": ("Genau so erneut erzeugen", "Render exactly so again"),
    "rep_basis": ("Datengrundlage", "What this report is built from"),
    "rep_scatter_note": ("{drawn} Gebiete als Punkte; {left} ohne beide Werte (keine Daten oder geheim gehalten) "
                         "sind nicht eingezeichnet.",
                         "{drawn} areas as dots; {left} without both values (no data or suppressed) are not drawn."),
    "book_title": ("Gebietsprofile der {levels}", "Area profiles of the {levels}"),
    "book_count": ("Enthält die Profile aller {n} {levels} im aktuellen Gebietsstand.",
                   "Contains the profiles of all {n} {levels} in the current boundaries."),
    "book_contents": ("Inhalt", "Contents"),
    "book_indicators": ("Die Indikatoren", "The indicators"),
    "book_methods": ("Methoden und Quellen", "Methods and sources"),
    "book_method_values": ("Werte: Quoten und Anteile werden auf jeder Ebene als Summe der Zähler durch Summe der "
                           "Nenner gebildet, Anzahlen als Summen; fehlt ein Teilgebiet, fehlt auch der Gesamtwert.",
                           "Values: rates and shares are the sum of numerators over the sum of denominators at "
                           "every level, counts are sums; if a part is missing, so is the total."),
    "book_method_suppression": ("Geheimhaltung: kleine Fallzahlen werden nach den Regeln der amtlichen Statistik "
                                "nicht veröffentlicht, auch nicht durch Differenzbildung erschließbar.",
                                "Disclosure control: small numbers are withheld by the rules of official "
                                "statistics, and cannot be worked out by subtraction either."),
    "book_make": ("Profilheft erstellen", "Make a profile booklet"),
    "book_view_public": ("öffentliche Fassung (nur veröffentlichte Zahlen)", "public edition (released figures only)"),
    "book_view_internal": ("interne Fassung", "internal edition"),
    "book_start": ("Erstellen", "Make"),
    "book_running": ("Wird erstellt … {done}/{total} Gebiete", "Making … {done}/{total} areas"),
    "book_done": ("Fertig:", "Done:"),
    "book_failed": ("Das Profilheft konnte nicht erstellt werden.", "The booklet could not be made."),
    "reports": ("Berichte", "Reports"),
    # Release workflow: states, the steps a page offers, what a delivery changes.
    "state_draft": ("Entwurf", "draft"),
    "state_internal": ("intern freigegeben", "released internally"),
    "state_public": ("öffentlich", "public"),
    "state_withdrawn": ("zurückgezogen", "withdrawn"),
    "act_release_internal": ("Intern freigeben", "Release internally"),
    "act_release_public": ("Öffentlich freigeben …", "Release to the public …"),
    "act_unschedule": ("Termin aufheben", "Cancel scheduled release"),
    "act_rollback": ("Zurückziehen …", "Withdraw …"),
    "change_new": ("neu", "new"),
    "change_changed": ("geändert", "changed"),
    "change_same": ("unverändert", "unchanged"),
    "change_not_redelivered": ("nicht erneut geliefert", "not delivered again"),
    "nav_releases": ("Freigaben", "Releases"),
    # Audit log: every action in words.
    "audit_login": ("Anmeldung", "signed in"),
    "audit_login_failed": ("Anmeldung fehlgeschlagen", "sign-in failed"),
    "audit_logout": ("Abmeldung", "signed out"),
    "audit_user_added": ("Konto angelegt", "account added"),
    "audit_password_changed": ("Passwort geändert", "password changed"),
    "audit_user_disabled": ("Konto gesperrt", "account disabled"),
    "audit_user_enabled": ("Konto entsperrt", "account enabled"),
    "audit_role_changed": ("Rolle/Fachämter geändert", "role/departments changed"),
    "audit_grants_changed": ("Freigaben geändert", "grants changed"),
    "audit_token_created": ("API-Token erstellt", "API token created"),
    "audit_token_revoked": ("API-Token widerrufen", "API token revoked"),
    "audit_boundaries_added": ("Gebietsstand hinzugefügt", "boundary set added"),
    "audit_partner_read": ("Abruf über Partnerzugang", "read through a partner token"),
    "audit_indicator_shared": ("Indikator geteilt", "indicator shared"),
    "audit_warning_rules_set": ("Frühwarnregeln gesetzt", "early-warning rules set"),
    "audit_goal_added": ("Ziel ins Register aufgenommen", "goal added to the register"),
    "audit_measure_saved": ("Maßnahme gespeichert", "measure saved"),
    "audit_grid_added": ("Planungsraster angelegt", "planning grid added"),
    "audit_dashboard_configured": ("Kacheln des Dashboards gewählt", "dashboard tiles chosen"),
    "audit_indicator_created": ("Indikator angelegt", "indicator created"),
    "audit_metadata_changed": ("Metadaten geändert", "metadata changed"),
    "audit_visibility_changed": ("Sichtbarkeit geändert", "visibility changed"),
    "audit_version_created": ("Version gespeichert (Entwurf)", "version stored (draft)"),
    "audit_version_released": ("Version freigegeben", "version released"),
    "audit_release_scheduled": ("Freigabe geplant", "release scheduled"),
    "audit_release_unscheduled": ("Geplante Freigabe aufgehoben", "scheduled release cancelled"),
    "audit_version_withdrawn": ("Version zurückgezogen", "version withdrawn"),
    # composite index builder (/indizes)
    "nav_indices": ("Indizes", "Indices"),
    "ix_title": ("Index bauen", "Build an index"),
    "ix_intro": ("Mehrere Indikatoren zu einem Index je Gebiet zusammenfassen: standardisieren, gewichten, "
                 "Richtung festlegen. Höhere Indexwerte bedeuten mehr Bedarf. Geheim gehaltene Zahlen gehen in "
                 "keine Berechnung ein.",
                 "Combine several indicators into one index per area: standardise, weight, set the direction. "
                 "Higher index values mean more need. Suppressed numbers enter no computation."),
    "ix_denied": ("Für diese Seite fehlt Ihnen die Berechtigung (Datenpflege oder Administration).",
                  "You lack the rights for this page (data stewards or administration)."),
    "ix_inputs": ("Indikatoren", "Indicators"),
    "ix_weight": ("Gewicht", "Weight"),
    "ix_direction": ("Richtung", "Direction"),
    "ix_high_bad": ("hoch = ungünstig", "high = adverse"),
    "ix_high_good": ("hoch = günstig", "high = favourable"),
    "ix_method": ("Standardisierung", "Standardisation"),
    "ix_zscore": ("z-Wert", "z-score"),
    "ix_minmax": ("Min-Max (0 bis 1)", "min–max (0 to 1)"),
    "ix_rank": ("Rang (0 bis 1)", "rank (0 to 1)"),
    "ix_missing": ("Fehlende oder geheim gehaltene Eingänge", "Missing or suppressed inputs"),
    "ix_exclude": ("Gebiet bleibt ohne Wert", "area gets no value"),
    "ix_reweight": ("übrige Gewichte hochrechnen (mind. 50 %)", "scale up the other weights (at least 50 %)"),
    "ix_period": ("Zeitraum", "Period"),
    "ix_reference": ("Referenzzeitraum (optional)", "Reference period (optional)"),
    "ix_level": ("Ebene", "Level"),
    "ix_preview": ("Vorschau berechnen", "Compute preview"),
    "ix_pick_first": ("Bitte Indikatoren wählen.", "Please choose indicators."),
    "ix_not_available": ("Nicht verfügbar: ein Indikator ist nicht vorhanden.",
                         "Not available: an indicator does not exist."),
    "ix_area": ("Gebiet", "Area"),
    "ix_value": ("Index", "Index"),
    "ix_status": ("Status", "Status"),
    "ix_reason": ("Grund", "Reason"),
    "ix_save_id": ("Kennung (a-z, 0-9, _)", "Identifier (a-z, 0-9, _)"),
    "ix_save_title": ("Titel", "Title"),
    "ix_request_public": ("Öffentliche Sichtbarkeit beantragen (Freigabe durch die Administration)",
                          "Request public visibility (approved by the administration)"),
    "ix_save": ("Als Indikator speichern", "Save as indicator"),
    "ix_saved": ("Gespeichert als {id} (Entwurf, intern; Version {version}).",
                 "Saved as {id} (draft, internal; version {version})."),
    "ix_sensitivity": ("Empfindlichkeit: Gebiete, die bei geändertem Gewicht die Klasse wechseln (5 Quantilsklassen)",
                       "Sensitivity: areas that change class when one weight moves (5 quantile classes)"),
    "ix_change": ("Gewicht", "Weight"),
    "ix_switched": ("Wechsel", "Switches"),
    "ix_areas": ("Gebiete", "Areas"),
    "ix_typology": ("Typologie Status × Dynamik", "Typology status × dynamics"),
    "ix_years": ("Dynamik über Jahre", "Dynamics over years"),
    "ix_typology_run": ("Typologie berechnen", "Compute typology"),
    "ix_group": ("Gruppe", "Group"),
    "ix_to_planning": ("Budgetverteilung mit diesem Index planen", "Plan a budget allocation with this index"),
    # planning (/planung): budget allocation, supply and demand, cluster typology
    "nav_planning": ("Planung", "Planning"),
    "pl_title": ("Planung: Budget, Plätze, Gebietstypen", "Planning: budget, places, area types"),
    "pl_intro": ("Vorschauen für Entscheidungen: nichts wird gespeichert. Neben jedem Ergebnis steht, wie es "
                 "berechnet ist; geheim gehaltene Zahlen gehen in keine Berechnung ein und erscheinen nie als Zahl.",
                 "Previews for decisions: nothing is stored. Each result states how it is computed; suppressed "
                 "numbers enter no computation and never appear as numbers."),
    "pl_builders_only": ("Budgetverteilung und Cluster-Typologie stehen der Datenpflege und der Administration "
                         "(angemeldet) zur Verfügung.",
                         "Budget allocation and cluster typology are available to signed-in data stewards and "
                         "administrators."),
    "pl_level": ("Ebene", "Level"),
    "pl_period": ("Zeitraum", "Period"),
    "pl_al_title": ("Budgetverteilung (Vorschau)", "Budget allocation (preview)"),
    "pl_al_intro": ("Einen Betrag auf die Gebiete einer Ebene verteilen: im Verhältnis zu einem Index oder "
                    "Indikator (auf Wunsch mal Einwohnerzahl) oder zu seinem Zähler, mit Sockel und Obergrenze je "
                    "Gebiet. Beträge in ganzen Cent, die Summe ist exakt der Betrag.",
                    "Distribute an amount across the areas of a level: in proportion to an index or indicator "
                    "(optionally times population) or to its numerator, with a floor and a cap per area. Whole "
                    "cents; the total is exactly the amount."),
    "pl_al_indicator": ("Verteilen nach (gespeicherter Index oder Indikator)",
                        "Distribute by (saved index or indicator)"),
    "pl_al_basis": ("Grundlage", "Basis"),
    "pl_al_basis_value": ("Wert (mal Bevölkerung, wenn gewählt)", "Value (times population, if chosen)"),
    "pl_al_basis_numerator": ("Zähler des Indikators (z. B. Zahl der Kinder)",
                              "The indicator's numerator (e.g. number of children)"),
    "pl_al_population": ("Bevölkerung (optional, nur mit „Wert“)", "Population (optional, with “value” only)"),
    "pl_al_amount": ("Betrag in Euro", "Amount in euros"),
    "pl_al_floor": ("Sockel je Gebiet in Euro (optional)", "Floor per area in euros (optional)"),
    "pl_al_cap": ("Obergrenze je Gebiet in Euro (optional)", "Cap per area in euros (optional)"),
    "pl_al_run": ("Verteilung berechnen", "Compute allocation"),
    "pl_al_xlsx": ("Als Excel-Datei (XLSX) herunterladen", "Download as Excel file (XLSX)"),
    "pl_al_pick_first": ("Bitte Indikator, Zeitraum und Betrag angeben.",
                         "Please give an indicator, a period and an amount."),
    "pl_al_sum": ("Summe: {sum} über {n} Gebiete – exakt der Betrag, auf den Cent.",
                  "Total: {sum} over {n} areas – exactly the amount, to the cent."),
    "pl_al_map_title": ("Betrag je Gebiet in Euro", "Amount per area in euros"),
    "pl_al_weight": ("Gewicht", "Weight"),
    "pl_al_amount_col": ("Betrag", "Amount"),
    "pl_al_how": ("Zustandekommen", "How it came about"),
    "pl_al_st_ok": ("anteilig", "in proportion"),
    "pl_al_st_capped": ("Obergrenze erreicht", "cap reached"),
    "pl_al_st_floor_only": ("nur Sockel (kein verwendbarer Wert)", "floor only (no usable value)"),
    "pl_cv_title": ("Reichen die Plätze? Versorgung je Gebiet", "Are there enough places? Coverage per area"),
    "pl_cv_intro": ("Plätze der Einrichtungen je 100 Personen mit Bedarf, je Gebiet und Ebene. Für Zeiträume "
                    "mit Bevölkerungsprognose ist der Bedarf die Prognose (im Zeitraum vermerkt).",
                    "Places of the facilities per 100 people in need, per area and level. For periods with a "
                    "population projection the demand is the projection (marked in the period)."),
    "pl_cv_layer": ("Einrichtungen (Plätze)", "Facilities (places)"),
    "pl_cv_demand": ("Bedarf (Indikator; gezählt wird sein Zähler)", "Demand (indicator; its numerator counts)"),
    "pl_cv_radius": ("Einzugsbereich in Metern (0 = nur Einrichtungen im Gebiet)",
                     "Catchment in metres (0 = facilities in the area only)"),
    "pl_cv_run": ("Versorgung berechnen", "Compute coverage"),
    "pl_cv_pick_first": ("Bitte Einrichtungen, Bedarf und Zeitraum wählen.",
                         "Please choose facilities, demand and period."),
    "pl_cv_places": ("Plätze", "Places"),
    "pl_cv_demand_col": ("Bedarf", "Demand"),
    "pl_cv_ratio": ("Plätze je 100 mit Bedarf", "Places per 100 in need"),
    "pl_cv_no_demand": ("kein Bedarf", "no demand"),
    "pl_cv_total": ("Ganze Stadt: {places} Plätze, Bedarf {demand}, {ratio} Plätze je 100.",
                    "Whole territory: {places} places, demand {demand}, {ratio} places per 100."),
    "pl_cl_title": ("Cluster-Typologie", "Cluster typology"),
    "pl_cl_intro": ("Gebiete nach Ähnlichkeit über mehrere z-standardisierte Indikatoren gruppieren (k-means "
                    "oder hierarchisch nach Ward); jeder Cluster ist durch seine Mittelwerte beschrieben.",
                    "Group areas by similarity over several z-standardised indicators (k-means or Ward's "
                    "hierarchical clustering); each cluster is described by its means."),
    "pl_cl_indicators": ("Indikatoren (2 bis 12)", "Indicators (2 to 12)"),
    "pl_cl_k": ("Zahl der Cluster (2 bis 10)", "Number of clusters (2 to 10)"),
    "pl_cl_method": ("Verfahren", "Method"),
    "pl_cl_kmeans": ("k-means", "k-means"),
    "pl_cl_ward": ("hierarchisch (Ward)", "hierarchical (Ward)"),
    "pl_cl_run": ("Cluster berechnen", "Compute clusters"),
    "pl_cl_cluster": ("Cluster", "Cluster"),
    "pl_cl_size": ("Gebiete", "Areas"),
    "pl_cl_words": ("Beschreibung", "Description"),
    "pl_cl_means": ("Mittelwerte je Cluster", "Means per cluster"),
    "pl_cl_above": ("über dem Durchschnitt: ", "above average: "),
    "pl_cl_below": ("unter dem Durchschnitt: ", "below average: "),
    "pl_cl_average": ("nahe am Durchschnitt aller Gebiete", "close to the average of all areas"),
    "pl_cl_left_out": ("Ausgelassen ({n}, fehlende oder geheim gehaltene Werte): {areas}",
                       "Left out ({n}, missing or suppressed values): {areas}"),
    "audit_target_set": ("Ziel gesetzt", "target set"),
    # targets dashboard (/ziele)
    "nav_targets": ("Ziele", "Targets"),
    "tg_title": ("Ziele und Warnzonen", "Targets and warning zones"),
    "tg_intro": ("Aktueller Wert der ganzen Stadt gegen das Ziel des Fachamts: grün erreicht, gelb in der "
                 "Warnzone, rot darüber hinaus; der Pfeil zeigt die Richtung gegenüber dem Zeitraum davor.",
                 "The whole city's current value against the department's target: green reached, yellow in the "
                 "warning zone, red beyond; the arrow shows the direction against the period before."),
    "tg_none": ("Für Ihre Indikatoren sind keine Ziele gesetzt.", "No targets are set for your indicators."),
    "tg_no_value": ("Kein aktueller Wert.", "No current value."),
    "tg_target_line": ("Ziel: {direction} {target}, Warnschwelle {warn}, bis {deadline}",
                       "Target: {direction} {target}, warning at {warn}, by {deadline}"),
    "tg_up": ("mindestens", "at least"),
    "st_warnings": ("Frühwarnungen", "Early warnings"),
    "ew_above": ("über der Schwelle {limit}: {step}{value}", "above the threshold {limit}: {step}{value}"),
    "ew_below": ("unter der Schwelle {limit}: {step}{value}", "below the threshold {limit}: {step}{value}"),
    "ew_change": ("{change} gegenüber {before} ({was} → {value})", "{change} against {before} ({was} → {value})"),
    "ew_worst": ("neu im schlechtesten Fünftel aller Gebiete ({value})", "newly in the worst fifth of all areas "
                 "({value})"),
    "ex_notes": ("Hinweise des Fachamts", "Notes from the department"),
    "ex_table": ("Tabelle", "Table"),
    "ex_tab_filter": ("Gebiet suchen (Name oder Schlüssel)", "Find an area (name or key)"),
    "ex_tab_sort": ("Sortieren", "Sort"),
    "ex_sort_key": ("nach Schlüssel", "by key"),
    "ex_sort_name": ("nach Name", "by name"),
    "ex_sort_value_desc": ("nach Wert, absteigend", "by value, descending"),
    "ex_sort_value_asc": ("nach Wert, aufsteigend", "by value, ascending"),
    "ex_tab_key": ("Schlüssel", "Key"),
    "ex_tab_name": ("Gebiet", "Area"),
    "ex_tab_parent": ("gehört zu", "Part of"),
    "ex_tab_value": ("Wert", "Value"),
    "ex_tab_status": ("Hinweis", "Note"),
    "ex_tab_count": ("{shown} von {total} Gebieten", "{shown} of {total} areas"),
    "st_no_warnings": ("Keine Frühwarnungen im jüngsten Zeitraum.", "No early warnings in the latest period."),
    "st_more": ("… und {n} weitere (alle: /api/v1/warnings)", "… and {n} more (all: /api/v1/warnings)"),
    "st_due": ("Fällige Wiedervorlagen", "Reviews due"),
    "st_no_due": ("Keine Maßnahme ist zur Wiedervorlage fällig.", "No measure is due for review."),
    "st_register": ("Ziele und Maßnahmen", "Goals and measures"),
    "st_no_goals": ("Im Register stehen noch keine Ziele.", "The register holds no goals yet."),
    "st_review": ("Wiedervorlage", "review"),
    "st_state_open": ("offen", "open"),
    "st_state_done": ("erledigt", "done"),
    "st_state_dropped": ("verworfen", "dropped"),
    "tg_down": ("höchstens", "at most"),
    "tg_light_green": ("erreicht", "reached"),
    "tg_light_yellow": ("Warnzone", "warning zone"),
    "tg_light_red": ("verfehlt", "missed"),
    "tg_light_grey": ("kein Wert", "no value"),
    # compare and explore (/vergleich)
    "nav_compare": ("Vergleichen", "Compare"),
    "cmp_title": ("Vergleichen und erkunden", "Compare and explore"),
    "cmp_tab_areas": ("Gebiete vergleichen", "Compare areas"),
    "cmp_tab_change": ("Veränderung", "Change"),
    "cmp_tab_relation": ("Zusammenhang", "Relation"),
    "cmp_areas": ("Gebiete (bis zu sechs, jede Ebene)", "Areas (up to six, any level)"),
    "cmp_areas_search": ("Gebiet nach Name oder Schlüssel suchen …", "Search an area by name or key …"),
    "cmp_indicators": ("Indikatoren", "Indicators"),
    "cmp_chart_indicator": ("Zeitreihe von", "Time series of"),
    "cmp_pick_areas": ("Bitte Gebiete und Indikatoren wählen.", "Please choose areas and indicators."),
    "cmp_parent": ("übergeordnet", "parent"),
    "cmp_territory": ("gesamt", "whole territory"),
    "cmp_from": ("von", "from"),
    "cmp_to": ("bis", "to"),
    "cmp_change_note": ("Veränderung zwischen zwei Zeiträumen. Gebiete, deren Grenzen sich dazwischen "
                        "geändert haben, sind „nicht vergleichbar“; neben einem geheim gehaltenen Wert "
                        "bleibt auch die Veränderung geheim.",
                        "Change between two periods. Areas whose boundaries changed in between are "
                        "'not comparable'; next to a suppressed value the change stays suppressed too."),
    "cmp_change_col": ("Veränderung", "Change"),
    "cmp_x": ("Indikator waagerecht (x)", "Indicator across (x)"),
    "cmp_y": ("Indikator senkrecht (y)", "Indicator up (y)"),
    "cmp_n": ("Gebiete einbezogen", "areas included"),
    "cmp_left_out": ("Ausgelassen (fehlend oder geheim gehalten)", "Left out (missing or suppressed)"),
    "cmp_none_left_out": ("Keine Gebiete ausgelassen.", "No areas left out."),
    "cmp_regression": ("Regressionsgerade", "Regression line"),
    "cmp_correlation_note": ("Ein Zusammenhang über Gebiete sagt nichts über einzelne Personen aus.",
                             "A relation across areas says nothing about individual people."),
    "cmp_too_few": ("Zu wenige Gebiete für eine Korrelation.", "Too few areas for a correlation."),
    "ex_change_classes": ("Klassen: gleich breit um 0", "Classes: equal width around 0"),
    "ex_left_out": ("ausgelassen", "left out"),
    "cmp_area_col": ("Gebiet", "Area"),
    "cmp_key_col": ("Schlüssel", "Key"),
    "cmp_value_col": ("Wert", "Value"),
    "cmp_status_col": ("Status", "Status"),
    "cmp_tab_maps": ("Zwei Karten", "Two maps"),
    "cmp_map_left": ("Linke Karte", "Left map"),
    "cmp_map_right": ("Rechte Karte", "Right map"),
    "cmp_show_map": ("Karte zeigen", "Show map"),
    "cmp_tab_similar": ("Ähnliche Gebiete", "Similar areas"),
    "cmp_reference": ("Vergleichsgebiet", "Reference area"),
    "cmp_method_range": ("Spanne (Anteil der Spannweite je Indikator)", "Range (share of each indicator's spread)"),
    "cmp_method_zscore": ("Standardisierter Abstand (z-Werte)", "Standardised distance (z-scores)"),
    "cmp_tolerance": ("Toleranz", "Tolerance"),
    "cmp_sim_method": ("Verfahren", "Method"),
    "cmp_distance": ("Abstand", "Distance"),
    "cmp_similar_found": ("ähnliche Gebiete (einschließlich des Vergleichsgebiets)",
                          "similar areas (including the reference area)"),
    "cmp_similar_none": ("Das Vergleichsgebiet hat nicht für alle Indikatoren einen Wert.",
                         "The reference area lacks a value for some indicator."),
    # ---- bivariate map and play over time (issue 14)
    "cmp_tab_bivariate": ("Bivariate Karte", "Bivariate map"),
    "cmp_table_region": ("Tabelle (seitlich verschiebbar)", "Table (scrolls sideways)"),
    "cmp_bv_legend": ("Legende: beide Indikatoren in je drei gleich großen Gruppen (Terzile)",
                      "Legend: each indicator in three groups of about equal size (terciles)"),
    "cmp_bv_note": ("Nur Gebiete mit einem Wert für beide Indikatoren werden eingeteilt; fehlende und geheim "
                    "gehaltene bleiben ohne Klasse und werden aufgelistet.",
                    "Only areas with a value for both indicators are classed; missing and suppressed ones get "
                    "no class and are listed."),
    "cmp_bv_class": ("Einordnung", "Class"),
    "cmp_tab_play": ("Zeitverlauf abspielen", "Play over time"),
    "cmp_play": ("Abspielen", "Play"),
    "cmp_pause": ("Anhalten", "Pause"),
    "cmp_prev": ("Voriger Zeitraum", "Previous period"),
    "cmp_next": ("Nächster Zeitraum", "Next period"),
    "cmp_fixed": ("feste Klassen über alle Zeiträume", "fixed classes across all periods"),
    "cmp_shown": ("Gezeigt", "Shown"),
    "cmp_of": ("von", "of"),
    "cmp_play_note": ("Mit festen Klassen bedeutet eine Farbe in jedem Zeitraum dieselbe Wertespanne.",
                      "With fixed classes a colour means the same range of values in every period."),
    # {shown} of {total} rows of a compare table on the page; the CSV download holds every row (issue 14).
    "cmp_rows_shown": ("{shown} von {total} Gebieten; alle in der CSV-Tabelle",
                       "{shown} of {total} areas; all in the CSV table"),
    # ---- explorer on phones and tablets (issue 16)
    "ex_legend": ("Legende", "Legend"),
    "ex_ts_below": ("Zeitreihe unten", "Time series below"),
    "ex_dd_search": ("Suchen …", "Search …"),
    "ex_dd_clear_search": ("Suche leeren", "Clear search"),
    "ex_dd_clear_selection": ("Auswahl leeren", "Clear selection"),
    "ex_dd_select_all": ("Alle auswählen", "Select all"),
    "ex_dd_deselect_all": ("Keine auswählen", "Deselect all"),
    "ex_dd_none_found": ("Nichts gefunden", "Nothing found"),
    "ex_area_value": ("Wert", "Value"),
    "ex_area_in": ("gehört zu", "part of"),
    "ex_area_notes": ("Hinweis des Fachamts", "Department's note"),
    "ex_grid_option": ("{name} (Raster, geschätzt)", "{name} (grid, estimated)"),
    "ex_grid_card": ("Schätzung für eine Rasterfläche ({method}). Zeitreihen und Profile gibt es für die Gebiete "
                     "der Ebenen.", "An estimate for a grid area ({method}). Time series and profiles are kept "
                     "for the areas of the levels."),
    "ex_area_close": ("Auswahl aufheben", "Clear selection"),
    "ex_help": ("Was bedeutet das?", "What does this mean?"),
    "ex_help_quantiles": ("Quantile: jede Klasse enthält etwa gleich viele Gebiete. Gut, um Rangfolgen zu "
                          "sehen; nahe beieinander liegende Werte können in verschiedenen Klassen landen.",
                          "Quantiles: each class holds about the same number of areas. Good for seeing "
                          "ranks; values close together may land in different classes."),
    "ex_help_natural_breaks": ("Natürliche Unterbrechungen (Jenks): die Grenzen liegen dort, wo die Werte "
                               "große Sprünge machen. Ähnliche Werte bleiben in einer Klasse.",
                               "Natural breaks (Jenks): the limits lie where the values jump. Similar values "
                               "stay in one class."),
    "ex_help_equal_interval": ("Gleiche Intervalle: jede Klasse ist gleich breit (z. B. 0–5, 5–10 %). Leicht zu "
                               "lesen; einzelne Ausreißer können fast alle Gebiete in eine Klasse drängen.",
                               "Equal interval: every class is equally wide (e.g. 0–5, 5–10 %). Easy to read; "
                               "a few outliers can push almost every area into one class."),
    "ex_help_classes": ("Klassen: wie viele Farbstufen die Karte zeigt. Weniger Klassen sind leichter zu "
                        "lesen, mehr zeigen feinere Unterschiede.",
                        "Classes: how many colour steps the map shows. Fewer are easier to read, more show "
                        "finer differences."),
    "ex_help_missing": ("Weiß, gestrichelt umrandet: keine Daten – für dieses Gebiet liegt kein Wert vor.",
                        "White with a dashed outline: no data – there is no value for this area."),
    "ex_help_suppressed": ("Grau schraffiert: geheim gehalten – der Wert beruht auf so wenigen Fällen, dass "
                           "er Rückschlüsse auf einzelne Personen erlauben könnte.",
                           "Grey hatching: suppressed – the value rests on so few cases that it could reveal "
                           "individual people."),
    "ex_mark_internal": ("intern", "internal"),
    "ex_mark_restricted": ("nur für {department}", "only for {department}"),
    "ex_mark_unreleased": ("intern – noch nicht veröffentlicht", "internal – not yet published"),
    "ex_mark_note": ("Nicht zur Veröffentlichung.", "Not for publication."),
    "ex_offline": ("Verbindung unterbrochen. Die zuletzt geladene Ansicht bleibt nutzbar.",
                   "Connection lost. The last loaded view stays usable."),
}


def t(key: str, lang: str = "de") -> str:
    de, en = STRINGS[key]
    return en if lang == "en" else de


def norm_lang(value: str | None) -> str:
    return value if value in LANGS else "de"
