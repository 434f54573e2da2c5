DROP TABLE slot_holds;
DROP TABLE booking_keys;
