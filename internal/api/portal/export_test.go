package portal

// ClassDTOForTest and ToClassDTOForTest let the external tests encode the classes
// list with encoding/json, to compare with the hand-written encoding.
type ClassDTOForTest = classDTO

// ToClassDTOForTest is toClassDTO.
var ToClassDTOForTest = toClassDTO
