/* The historian's event statements: the alarms, gateway states,
 * discharges, impedance baselines and configuration changes of a batch, in
 * the tables the audit queries read (the readings are COPY's, copy.h). */
#ifndef OW_EVENTS_H
#define OW_EVENTS_H

#include <stddef.h>

#include "db.h"

/* Write the batch's events inside the transaction ow_db_write has open, in
 * this order: alarms, states, discharges, baselines, configuration changes
 * (config_changes for a setting, audit_log for every one). A replayed event
 * changes nothing. 0, or -1 with err at the first statement that failed. */
int ow_events_write(ow_db_t *db, const ow_batch_t *b, char *err, size_t errlen);

#endif
